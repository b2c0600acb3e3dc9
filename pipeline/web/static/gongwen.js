// gongwen: the little the pages do in the browser. No inline scripts (the Content-Security-Policy runs none).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // a table's "select all" box ticks every task of that table (for one bulk action)
  for (const all of document.querySelectorAll("input.select-all")) {
    all.addEventListener("change", () => {
      for (const box of all.closest("table").querySelectorAll("tbody input[name=tasks]")) box.checked = all.checked;
    });
  }
  // a bulk action on nothing ticked is a mistake: say so instead of sending it
  const bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", (event) => {
      const ticked = document.querySelectorAll("input[name=tasks][form=bulk]:checked").length;
      if (ticked === 0) { event.preventDefault(); alert("請先勾選待辦"); return; }
      const action = bulk.querySelector("select[name=action] option:checked").textContent;
      if (!confirm(`對 ${ticked} 筆待辦執行「${action}」？`)) event.preventDefault();
    });
  }
});
