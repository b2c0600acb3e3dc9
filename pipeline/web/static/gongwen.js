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
  // the upload page: each file sent alone to /api/upload, its row showing where it is (a DI file goes
  // with every file chosen, its attachment PDFs among them); without this script the form posts them all
  const upload = document.getElementById("upload");
  if (upload) uploadPage(upload);
});

const UPLOAD_NAMES = {stored: "已存入", duplicate: "重複", quarantined: "已隔離", failed: "失敗（下次再試）",
  refused: "未收", attached: "附件"};

function uploadPage(form) {
  const input = form.querySelector("input[type=file]");
  const drop = document.getElementById("drop");
  const table = document.getElementById("uploads");
  const body = table.querySelector("tbody");
  const routing = document.getElementById("routing");
  const token = form.querySelector("input[name=csrf_token]").value;
  const maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    send(Array.from(event.dataTransfer.files));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(Array.from(input.files));
  });

  function row(file) {
    const tr = document.createElement("tr");
    for (let i = 0; i < 4; i++) tr.appendChild(document.createElement("td"));
    tr.cells[0].textContent = file.name;  // text, never markup: a file name is the uploader's
    tr.cells[1].textContent = "等待中";
    body.appendChild(tr);
    return tr;
  }

  function show(tr, result) {
    tr.className = result.status;
    tr.cells[1].textContent = UPLOAD_NAMES[result.status] || result.status;
    tr.cells[2].textContent = "";
    for (const id of result.documents || []) {
      const a = document.createElement("a");
      a.href = `/letters/${id}`;
      a.textContent = `#${id}`;
      tr.cells[2].append(a, " ");
    }
    const dup = result.status === "duplicate" ? `已在檔案庫（檔案 #${result.file_id}）` : "";
    tr.cells[3].textContent = dup + (result.error || "");
  }

  async function post(files) {
    const data = new FormData();
    for (const f of files) data.append("files", f, f.name);
    const response = await fetch("/api/upload", {method: "POST", body: data, headers: {"X-CSRF-Token": token},
      credentials: "same-origin"});
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(typeof answer.detail === "string" ? answer.detail : `HTTP ${response.status}`);
    return answer;
  }

  async function send(files) {
    if (!files.length) return;
    table.hidden = false;
    const made = {documents: 0, tasks_made: 0, triage: 0};
    const together = files.some((f) => f.name.toLowerCase().endsWith(".di"));
    const batches = together ? [files] : files.map((f) => [f]);
    for (const batch of batches) {
      const rows = batch.map(row);
      const small = batch.every((f) => f.size <= maxBytes);
      for (const tr of rows) tr.cells[1].textContent = small ? "處理中…" : "未收";
      if (!small) {
        for (const tr of rows) tr.cells[3].textContent = `檔案超過 ${form.dataset.maxMb} MB 上限`;
        continue;
      }
      try {
        const answer = await post(batch);
        answer.files.forEach((result, i) => show(rows[i], result));
        if (answer.routing) for (const k in made) made[k] += answer.routing[k];
        if (answer.routing_error) routing.textContent = answer.routing_error;
      } catch (error) {
        for (const tr of rows) { tr.className = "failed"; tr.cells[1].textContent = "失敗"; tr.cells[3].textContent = String(error.message); }
      }
    }
    if (made.documents) routing.textContent = `分辦：${made.documents} 份新文件，新增 ${made.tasks_made} 筆轉知待辦，${made.triage} 份待分辦`;
    input.value = "";
  }
}

// the letter page: a field's name marks every box it was read from (the first is the link's target;
// a field printed over two pages has a box on each)
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.src");
  if (!link) return;
  const name = link.id.replace(/^field-/, "");
  for (const on of document.querySelectorAll(".field-box.on")) on.classList.remove("on");
  for (const box of document.querySelectorAll(".field-box")) if (box.dataset.field === name) box.classList.add("on");
});
