/* 收表: send the chosen files in small batches so each file's fate appears as it is decided.
   Without JavaScript the form posts everything at once and the page shows the same table. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var drop = document.getElementById("drop"), input = form.querySelector("input[type=file]");
  var label = drop.querySelector("span"), results = document.getElementById("results");
  var button = form.querySelector("button.primary"), busy = document.getElementById("busy");
  var BATCH = parseInt(form.getAttribute("data-batch"), 10) || 50;
  var PARALLEL = 2;  // two requests in flight: one is checked while the other is stored and shown
  function show() {
    label.textContent = input.files.length ? "已选择 " + input.files.length + " 个文件" : "把文件拖到这里，或点击选择文件";
  }
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(function (e) {
    drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (e) {
    drop.addEventListener(e, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (ev) { ev.preventDefault(); input.files = ev.dataTransfer.files; show(); });

  function batches(files) {
    var out = [], cur = [];
    Array.prototype.forEach.call(files, function (f) {
      if (/\.zip$/i.test(f.name)) { out.push([f]); return; }  // a zip is a batch of its own
      cur.push(f);
      if (cur.length === BATCH) { out.push(cur); cur = []; }
    });
    if (cur.length) { out.push(cur); }
    return out;
  }
  function text(node, value) { node.textContent = value; return node; }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!input.files.length) { return; }
    var dry = form.querySelector("input[name=dry_run]").checked;
    var csrf = form.querySelector("input[name=csrf]").value;
    var groups = batches(input.files), total = input.files.length, done = 0, counts = {};
    results.removeAttribute("data-done");
    results.innerHTML = "";
    var head = text(document.createElement("h2"), dry ? "试收结果（未入库）" : "本次收表结果");
    var line = document.createElement("p"); line.className = "summary-line";
    var table = document.createElement("table"); table.className = "grid fates";
    table.innerHTML = "<thead><tr><th>文件</th><th>结果</th><th>单位</th><th class=num>总分</th><th>等次</th>" +
      "<th class=num>错误</th><th class=num>警告</th><th>原因</th></tr></thead><tbody></tbody>";
    results.append(head, line, table);
    var body = table.querySelector("tbody");
    // one tbody per batch, in order, so rows stay in the order the files were chosen
    var parts = groups.map(function () { var tb = document.createElement("tbody"); table.append(tb); return tb; });
    body.remove();
    button.disabled = true; busy.style.display = "inline";
    function progress() {
      line.innerHTML = "";
      Object.keys(counts).forEach(function (k) {
        var pill = text(document.createElement("span"), k + " " + counts[k]);
        pill.className = "pill o-" + k; line.append(pill);
      });
      line.append(document.createTextNode("已处理 " + done + " / " + total + " 个文件"));
    }
    function failRow(files, message, body) {
      files.forEach(function (f) {
        var tr = document.createElement("tr");
        tr.append(text(document.createElement("td"), f.name));
        var td = document.createElement("td"), pill = text(document.createElement("span"), "未收");
        pill.className = "pill o-拒收"; td.append(pill); tr.append(td);
        for (var i = 0; i < 5; i++) { tr.append(document.createElement("td")); }
        tr.append(text(document.createElement("td"), message));
        body.append(tr);
        counts["未收"] = (counts["未收"] || 0) + 1;
      });
    }
    var started = 0, finished = 0;
    function next() {
      if (finished === groups.length) {
        button.disabled = false; busy.style.display = ""; results.setAttribute("data-done", "1");
        line.lastChild.textContent = "共 " + total + " 个文件";
        return;
      }
      if (started >= groups.length) { return; }
      var i = started++, body = parts[i];
      var fd = new FormData();
      fd.append("csrf", csrf);
      if (dry) { fd.append("dry_run", "1"); }
      groups[i].forEach(function (f) { fd.append("files", f, f.name); fd.append("mtimes", String(f.lastModified || "")); });
      fetch("/upload", { method: "POST", body: fd, headers: { "HX-Request": "true", "X-CSRF-Token": csrf },
                         credentials: "same-origin" })
        .then(function (r) { return r.text().then(function (html) { return [r.ok, html]; }); })
        .then(function (res) {
          var doc = new DOMParser().parseFromString(res[1], "text/html");
          if (!res[0]) { failRow(groups[i], doc.body.textContent.trim(), body); }
          doc.querySelectorAll("table.fates tbody tr").forEach(function (tr) {
            var k = tr.querySelector("td:nth-child(2)").textContent.trim();
            counts[k] = (counts[k] || 0) + 1;
            body.append(document.importNode(tr, true));
          });
        })
        .catch(function (e) { failRow(groups[i], "网络错误：" + e, body); })
        .then(function () { done += groups[i].length; finished++; progress(); next(); });
    }
    progress();
    for (var k = 0; k < PARALLEL; k++) { next(); }
  });
})();
