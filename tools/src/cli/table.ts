/** Rows as left-aligned columns under upper-case headers, as kafka-consumer-groups prints them. */
export function formatTable(rows: { [column: string]: string | number }[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]);
  const cells = [
    columns.map((column) => column.toUpperCase()),
    ...rows.map((row) => columns.map((column) => String(row[column] ?? ''))),
  ];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index].length)));
  return cells
    .map((line) =>
      line
        .map((cell, index) => cell.padEnd(widths[index]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
