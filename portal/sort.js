// Sortable tables: where script runs, a table's column headings become buttons that sort its rows by that
// column (numbers by their value and dates by their ISO form, in data-v; text in the page's language;
// empty cells last), ascending then descending, and say so (aria-sort). Without script the tables read the
// same, in the order the page gives.
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
        const value = cell.dataset.v;
        if (value === undefined) return cell.textContent;
        return value !== "" && !isNaN(Number(value)) ? Number(value) : value;
      };
      const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a), y = key(b);
        if (x === "" || y === "") return (x === "") - (y === "");  // empty cells last, either way
        const order = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
});
