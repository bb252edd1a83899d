// Sortable tables: where script runs, a table's column headings become buttons that sort its rows by that
// column (numbers by their value, in data-v; text in the page's language), ascending then descending, and
// say so (aria-sort). Without script the tables read the same, in the order the page gives.
document.querySelectorAll("table.sortable").forEach((table) => {
  const body = table.tBodies[0];
  const headings = [...table.tHead.rows[0].cells];
  headings.forEach((th, column) => {
    const button = document.createElement("button");
    button.type = "button";
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headings.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (row) => {
        const cell = row.cells[column];
        return cell.dataset.v !== undefined ? Number(cell.dataset.v) : cell.textContent;
      };
      const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a), y = key(b);
        const order = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
});
