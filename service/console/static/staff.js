// Organizer (组织方) page of staff accounts: a paged list filtered by role and region, creation with
// the one-time binding code, deactivation and a new binding code after a confirmation each
// (POST/GET/PATCH /api/v1/staff, POST /api/v1/staff/{id}/binding-code).
"use strict";

document.addEventListener("alpine:init", () => {
  const api = Console.api;
  const ROLES = [{value: "province_staff", label: "地区工作人员"}, {value: "supervisor", label: "班主任"},
                 {value: "admin", label: "组织方"}];

  window.Alpine.data("staffPage", () => Object.assign(Console.pager(20), {
    items: [], regions: [], roles: ROLES, filterRole: "", filterRegion: "", rowErrors: {},
    state: Console.formState(), listState: Console.formState(), issued: null,
    form: {name: "", role: "province_staff", region_code: ""},
    // The row whose confirmation is open: {id, what: "deactivate" | "code"}.
    pending: null,
    async init() {
      const lists = await api("GET", "/api/v1/reference-lists");
      if (lists.ok) this.regions = lists.data.regions;
      this.load();
    },
    async load() {
      const params = this.pageQuery(new URLSearchParams());
      if (this.filterRole) params.set("role", this.filterRole);
      if (this.filterRegion) params.set("region_code", this.filterRegion);
      const result = await api("GET", "/api/v1/staff?" + params.toString());
      if (!result.ok) { this.listState.message = result.data.message; return; }
      if (this.pageLoaded(result.data)) this.items = result.data.items;
    },
    time(value) { return Console.time(value); },
    roleName(role) { const r = ROLES.find((x) => x.value === role); return r ? r.label : role; },
    regionName(code) { const r = this.regions.find((x) => x.code === code); return r ? r.name : code; },
    scopeText(a) {
      if (a.role === "province_staff") return this.regionName(a.region_code);
      if (a.role === "supervisor") return a.class_ids.length ? a.class_ids.length + " 个班次" : "未分配班次";
      return "全部";
    },
    err(field) { return this.state.errors[field] || ""; },
    rowError(a) { return this.rowErrors[a.id] || ""; },
    asking(a) { return this.pending && this.pending.id === a.id ? this.pending.what : null; },
    askDeactivate(a) { this.pending = {id: a.id, what: "deactivate"}; },
    askCode(a) { this.pending = {id: a.id, what: "code"}; },
    stopAsking() { this.pending = null; },
    setRowError(a, result) {
      const errors = Object.assign({}, this.rowErrors);
      if (result.ok) delete errors[a.id]; else errors[a.id] = result.data.message;
      this.rowErrors = errors;
    },
    async create() {
      this.state.busy = true; this.issued = null;
      const f = this.form, body = {name: f.name, role: f.role};
      if (f.role === "province_staff") body.region_code = f.region_code || null;
      const result = await api("POST", "/api/v1/staff", body);
      if (!result.ok && result.data.code === "REGION_REQUIRED" && !result.data.errors.region_code) {
        result.data.errors = Object.assign({}, result.data.errors, {region_code: [result.data.message]});
      }
      if (Console.showResult(this.state, result, "")) {
        this.issued = result.data; this.form.name = ""; this.restart();
      }
    },
    async patch(a, body, okText) {
      const result = await api("PATCH", "/api/v1/staff/" + a.id, body);
      this.pending = null; this.setRowError(a, result);
      if (result.ok) { this.listState.ok = okText + "：" + a.name; this.load(); }
    },
    deactivate(a) { this.patch(a, {active: false}, "已停用"); },
    reactivate(a) { this.patch(a, {active: true}, "已启用"); },
    async newCode(a) {
      const result = await api("POST", "/api/v1/staff/" + a.id + "/binding-code");
      this.pending = null; this.setRowError(a, result);
      if (result.ok) { this.issued = result.data; this.load(); }
    },
  }));
});
