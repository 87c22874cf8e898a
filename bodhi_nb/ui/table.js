// The page of a bodhi panel's table, drawn in the browser from one widget model.
//
// The kernel keeps the records, the filter, the sort and the paging; it sends only the
// visible page: `columns` [{key, heading}], `actions` [{key, label, tooltip}], `rows`
// (the cells' text), `disabled` (per row, per action) and the sort mark. A click on a
// heading or a row's button goes back as a message carrying the page's `version`, so a
// click on a page the kernel has since redrawn is dropped, never applied to another row.
// Every text is set with textContent: nothing a model file or a server said becomes HTML.
//
// A table may also have `fields`: a select or a text box on every row, drawn just before
// the action named by `before` ([{key, kind: "select"|"text", placeholder, options:
// [[label, value]], value, before}]). What a row's fields hold goes to the kernel with a
// click on that row's button (nothing is sent while typing); a redraw keeps what was
// chosen or typed in a row whose key (`row_keys`, one per row) is still on the page. A column
// with `sortable: false` has a plain heading.

const NAMES = ["columns", "actions", "rows", "disabled", "sort_key", "descending", "empty",
  "version", "fields", "row_keys"];

function button(classes, text) {
  const b = document.createElement("button");
  b.className = `jupyter-button widget-button ${classes}`;
  b.textContent = text;
  return b;
}

function field(spec, kept) {
  let input;
  if (spec.kind === "select") {
    input = document.createElement("select");
    for (const [label, value] of spec.options || []) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      input.appendChild(option);
    }
  } else {
    input = document.createElement("input");
    input.type = "text";
    input.placeholder = spec.placeholder || "";
  }
  input.className = `bodhi-field bodhi-field-${spec.key}`;
  if (spec.placeholder) input.title = spec.placeholder;
  input.value = kept !== undefined ? kept : (spec.value || "");
  return input;
}

function render({ model, el }) {
  el.classList.add("bodhi-table");
  const table = document.createElement("table");
  table.className = "bodhi-table-page";
  el.appendChild(table);
  let due = false;

  function draw() {
    due = false;
    const columns = model.get("columns");
    const actions = model.get("actions");
    const rows = model.get("rows");
    const disabled = model.get("disabled");
    const sortKey = model.get("sort_key");
    const mark = model.get("descending") ? " \u25bc" : " \u25b2";
    const version = model.get("version");
    const fields = model.get("fields");
    const keys = model.get("row_keys");
    // What the rows' fields hold now, by row key: kept across the redraw.
    const kept = new Map();
    for (const input of table.querySelectorAll(".bodhi-field")) {
      kept.set(`${input.dataset.row}\u0000${input.dataset.field}`, input.value);
    }
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement("th");
      if (column.sortable === false) {
        th.textContent = column.heading;
        th.className = `bodhi-heading bodhi-heading-${column.key}`;
      } else {
        const b = button(`bodhi-sort bodhi-sort-${column.key}`,
          column.heading + (column.key === sortKey ? mark : ""));
        b.addEventListener("click", () => model.send({ kind: "sort", key: column.key, version }));
        th.appendChild(b);
      }
      head.appendChild(th);
    }
    if (actions.length) head.appendChild(document.createElement("th"));
    const body = table.createTBody();
    if (!rows.length) {
      const td = body.insertRow().insertCell();
      td.colSpan = columns.length + (actions.length ? 1 : 0);
      td.className = "bodhi-no-rows";
      td.textContent = model.get("empty");
    }
    rows.forEach((cells, i) => {
      const tr = body.insertRow();
      cells.forEach((text, j) => {
        const span = document.createElement("span");
        span.className = `bodhi-cell bodhi-col-${columns[j].key}`;
        span.textContent = text;
        span.title = text;
        tr.insertCell().appendChild(span);
      });
      if (!actions.length) return;
      const td = tr.insertCell();
      td.className = "bodhi-row-actions";
      const rowKey = keys[i] !== undefined ? keys[i] : String(i);
      const inputs = fields.map((spec) => {
        const input = field(spec, kept.get(`${rowKey}\u0000${spec.key}`));
        input.dataset.row = rowKey;
        input.dataset.field = spec.key;
        return input;
      });
      const values = () => Object.fromEntries(inputs.map((input, f) => [fields[f].key,
        input.value]));
      const placed = new Set();
      actions.forEach((action, k) => {
        fields.forEach((spec, f) => {
          if (spec.before === action.key) {
            td.appendChild(inputs[f]);
            placed.add(f);
          }
        });
        const b = button(`bodhi-action-${action.key}`, action.label);
        if (action.tooltip) b.title = action.tooltip;
        b.disabled = Boolean(disabled[i] && disabled[i][k]);
        b.addEventListener("click", () =>
          model.send({ kind: "action", key: action.key, row: i, version, fields: values() }));
        td.appendChild(b);
      });
      inputs.forEach((input, f) => { if (!placed.has(f)) td.appendChild(input); });
    });
  }

  // One state message may change several traits: draw once for all of them.
  function later() {
    if (!due) {
      due = true;
      queueMicrotask(draw);
    }
  }
  draw();
  for (const name of NAMES) model.on(`change:${name}`, later);
  return () => {
    for (const name of NAMES) model.off(`change:${name}`, later);
  };
}

export default { render };
