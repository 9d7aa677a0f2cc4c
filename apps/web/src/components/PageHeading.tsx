import { type ReactNode, useEffect, useRef } from 'react';

let firstScreen = true;

/**
 * The screen's h1. After an in-app navigation it takes focus, so keyboard and screen-reader users
 * start on the new screen instead of on the link they left behind.
 */
export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · chargeonce`;
  }, [title]);
  useEffect(() => {
    if (firstScreen) firstScreen = false;
    else ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}
