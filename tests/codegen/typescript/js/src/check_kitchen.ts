// Type assertions on unions, interfaces, @include/@skip, scalars and subscriptions.
import type {
  FiguresQuery,
  SamplesQuery,
  ShapeNamesQuery,
  ShapesQuery,
  ShapesVariables,
  TicksSubscription,
  TicksVariables,
} from "./generated/kitchen.js";
import { Size } from "./generated/kitchen.js";

export function shapes(data: ShapesQuery): number {
  let total = 0;
  for (const shape of data.shapes) {
    if (shape.__typename === "Circle") {
      total += shape.radius;
      // @ts-expect-error a circle has no side
      total += shape.side;
    } else {
      const square: "Square" = shape.__typename;
      total += shape.side + shape.corners;
      void square;
    }
    // @ts-expect-error color is under @include: it may be missing
    const color: `#${string}` | null = shape.color;
    const maybe: `#${string}` | null | undefined = shape.color;
    const size: Size = shape.size;
    void [color, maybe, size === Size.LARGE];
  }
  return total;
}

export function figures(data: FiguresQuery): string[] {
  const names: string[] = [];
  for (const figure of data.figures) {
    // @ts-expect-error an item may be null
    figure.__typename;
    if (figure === null) continue;
    switch (figure.__typename) {
      case "Circle":
      case "Square":
        names.push(figure.name);
        break;
      case "Note":
        // @ts-expect-error text is under @skip: it may be missing
        names.push(figure.text);
        names.push(figure.text ?? "");
        break;
      default: {
        const never: never = figure;
        void never;
      }
    }
  }
  return names;
}

export function aliases(data: ShapeNamesQuery): string {
  // @ts-expect-error the alias `first` replaces firstShape
  data.firstShape;
  return data.first === null ? "" : `${data.first.kind}:${data.first.name}`;
}

export function scalars(data: SamplesQuery): void {
  if (data.sample === null) return;
  const amount: string = data.sample.amount; // Decimal keeps its digits as a string
  const json: Record<string, unknown> = data.sample.data; // --scalar JSON=Record<string, unknown>
  const count: number = data.sample.count;
  // @ts-expect-error a Decimal is a string, not a number
  const wrong: number = data.sample.amount;
  void [amount, json, count, wrong];
}

export const variables: ShapesVariables = { withColor: true, filter: { sizes: [Size.SMALL] } };
// @ts-expect-error withColor is required
export const missing: ShapesVariables = { filter: null };
// @ts-expect-error a Color is `#${string}`
export const badColor: ShapesVariables = { withColor: false, filter: { color: "red" } };
export const tick: TicksSubscription = { ticks: 1 };
export const tickVariables: TicksVariables = {};
