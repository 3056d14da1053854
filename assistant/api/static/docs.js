// A small offline viewer of /openapi.json: endpoints, parameters, bodies, responses.
"use strict";

(function () {
  function el(tag, cls, ...children) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function resolve(spec, schema) {
    if (schema && schema.$ref) {
      const name = schema.$ref.split("/").pop();
      return Object.assign({ title: name }, spec.components.schemas[name]);
    }
    return schema || {};
  }

  function typeOf(spec, schema) {
    schema = schema || {};
    if (schema.$ref) return schema.$ref.split("/").pop();
    if (schema.anyOf) return schema.anyOf.map((s) => typeOf(spec, s)).join(" | ");
    if (schema.type === "array") return typeOf(spec, schema.items) + "[]";
    if (schema.enum) return schema.enum.join(" | ");
    return schema.type || "object";
  }

  function fields(spec, schema) {
    schema = resolve(spec, schema);
    const required = new Set(schema.required || []);
    const rows = Object.entries(schema.properties || {}).map(([name, prop]) =>
      el("tr", "", el("td", "mono", name + (required.has(name) ? " *" : "")), el("td", "mono", typeOf(spec, prop)),
        el("td", "", prop.description || (resolve(spec, prop).description || ""))));
    return rows.length ? el("table", "trace", el("tbody", "", rows)) : null;
  }

  async function main() {
    const box = document.getElementById("docs");
    const spec = await (await fetch("/openapi.json")).json();
    box.textContent = "";
    box.append(el("div", "panel", el("h2", "", spec.info.title + " — phiên bản " + spec.info.version),
      el("p", "", spec.info.description || "")));
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const panel = el("section", "panel",
          el("h3", "", el("span", "badge role-chu_tri", method.toUpperCase()), " ", el("span", "mono", path)),
          el("p", "", op.summary || ""));
        if (op.description) panel.append(el("p", "muted small", op.description));
        const params = op.parameters || [];
        if (params.length) {
          panel.append(el("p", "small", "Tham số:"));
          panel.append(el("table", "trace", el("tbody", "", params.map((p) =>
            el("tr", "", el("td", "mono", p.name + (p.required ? " *" : "")), el("td", "mono", p.in + ", " + typeOf(spec, p.schema)),
              el("td", "", p.description || (p.schema && p.schema.description) || "")))))));
        }
        if (op.requestBody) {
          for (const [type, media] of Object.entries(op.requestBody.content || {})) {
            panel.append(el("p", "small", "Nội dung gửi (" + type + "):"));
            const table = fields(spec, media.schema);
            if (table) panel.append(table);
          }
        }
        const codes = Object.entries(op.responses || {}).map(([code, r]) => code + " " + (r.description || ""));
        panel.append(el("p", "muted small", "Trả về: " + codes.join("; ")));
        box.append(panel);
      }
    }
  }

  main().catch((err) => { document.getElementById("docs").textContent = "Không tải được /openapi.json: " + err; });
})();
