import { TEST_CARDS } from '../cards';

interface Props {
  value: string;
  onChange: (paymentMethodId: string) => void;
  legend: string;
  disabled?: boolean;
}

/** The test cards as a radio group: one labelled choice each, arrow keys move between them. */
export function CardPicker({ value, onChange, legend, disabled = false }: Props) {
  return (
    <fieldset className="cards" disabled={disabled}>
      <legend>{legend}</legend>
      {TEST_CARDS.map((card) => (
        <label key={card.id} className="card-choice">
          <input
            type="radio"
            name="paymentMethodId"
            value={card.id}
            checked={value === card.id}
            onChange={() => onChange(card.id)}
          />
          {card.label} <code>{card.id}</code>
        </label>
      ))}
    </fieldset>
  );
}
