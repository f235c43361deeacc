// Province staff (地区工作人员) pages: review queue with the quota gauge and bulk decisions,
// the leave inbox, the region's KPIs against notice 243 附件5's thresholds.
"use strict";

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  const api = Console.api;

  const KIND_NAMES = {business_licence: "营业执照", id_card: "身份证", photo: "一寸照片", leave_proof: "请假证明"};
  const GENDERS = {male: "男", female: "女"};

  Alpine.data("reviewPage", () => Object.assign(Console.pager(50), {
    region: "", classes: [], classId: "", items: [], quota: null, selected: [], reason: "", reasonError: "",
    filter: "submitted", name: "", enterprise: "", littleGiant: "",
    rowErrors: {}, state: Console.formState(), filterErrors: {}, detail: null, detailError: "",
    init() { this.region = this.$el.dataset.region; this.loadClasses(); },
    async loadClasses() {
      const result = await Console.fetchAll("/api/v1/classes?mine=true");
      if (!result.ok) { this.state.message = result.data.message; return; }
      this.classes = result.items;
      await this.countPending();
      // Open on work to do: the first class with registrations awaiting review in this region, else one
      // open for registration, else the first listed.
      const waiting = this.classes.find((c) => this.pending[c.id] > 0);
      const open = this.classes.find((c) => c.status === "published");
      if (this.classes.length && !this.classId) { this.classId = (waiting || open || this.classes[0]).id; }
      this.load();
    },
    // {class id: registrations of this region awaiting review} (the API's total of a one-item page).
    pending: {},
    async countPending() {
      const live = this.classes.filter((c) => ["published", "in_progress"].includes(c.status));
      const counts = await Promise.all(live.map((c) => api("GET", "/api/v1/registrations?" + new URLSearchParams(
        {class_id: c.id, region_code: this.region, state: "submitted", page_size: "1"}).toString())));
      const pending = {};
      live.forEach((c, i) => { if (counts[i].ok) pending[c.id] = counts[i].data.total; });
      this.pending = pending;
    },
    classLabel(c) { return c.name + "（" + c.start_date + "）" + (this.pending[c.id] ? " · 待审 " + this.pending[c.id] : ""); },
    // Filters are the API's query parameters (GET /api/v1/registrations): the server filters, pages and counts.
    query() {
      const params = this.pageQuery(new URLSearchParams({class_id: this.classId, region_code: this.region}));
      if (this.filter) params.set("state", this.filter);
      if (this.name.trim()) params.set("name", this.name.trim());
      if (this.enterprise.trim()) params.set("enterprise", this.enterprise.trim());
      if (this.littleGiant) params.set("little_giant", this.littleGiant);
      return "/api/v1/registrations?" + params.toString();
    },
    async load() {
      if (!this.classId) return;
      const [list, quotas] = await Promise.all([api("GET", this.query()), api("GET", "/api/v1/classes/" + this.classId + "/quotas")]);
      if (list.ok) {
        if (!this.pageLoaded(list.data)) return;
        this.items = list.data.items; this.filterErrors = {}; this.state.message = "";
      }
      else {  // a refused filter shows no stale rows
        this.items = []; this.total = 0; this.page = 1;
        this.state.message = list.data.message; this.filterErrors = Console.fieldErrors(list.data.errors);
      }
      if (quotas.ok) this.quota = quotas.data.quotas.find((q) => q.region_code === this.region) || null;
      this.selected = this.selected.filter((id) => this.items.some((item) => item.id === id));
    },
    clearFilters() { this.name = ""; this.enterprise = ""; this.littleGiant = ""; this.restart(); },
    filterError(field) { return this.filterErrors[field] || ""; },
    gaugeText() { return this.quota ? "已用 " + this.quota.used + " / 名额 " + this.quota.places + "，剩余 " + this.quota.left : "本班次没有本地区名额"; },
    rowError(item) { return this.rowErrors[item.id] || ""; },
    check(item, name) { return item.checks && item.checks[name] ? "是" : "否"; },
    allSelected() { return this.items.length > 0 && this.selected.length === this.items.length; },
    toggleAll() { this.selected = this.allSelected() ? [] : this.items.map((item) => item.id); },
    // The trainee's snapshot (the form as submitted) and files: GET /api/v1/registrations/{id}.
    async open(item) {
      this.detailError = "";
      const result = await api("GET", "/api/v1/registrations/" + item.id);
      if (!result.ok) { this.detail = null; this.detailError = result.data.message; return; }
      this.detail = result.data;
    },
    closeDetail() { this.detail = null; },
    snap() { return (this.detail && this.detail.snapshot) || {}; },
    firm() { return this.snap().enterprise || {}; },
    gender(value) { return GENDERS[value] || value || "—"; },
    list(values) { return values && values.length ? values.join("、") : "—"; },
    yesNo(value) { return value ? "是" : "否"; },
    education(e) { return [e.school, e.major, e.degree, (e.start || "") + "–" + (e.end || "")].filter(Boolean).join(" · "); },
    kindName(kind) { return KIND_NAMES[kind] || kind; },
    fileUrl(a) { return "/api/v1/attachments/" + a.id; },
    fileSize(a) { return a.size >= 1048576 ? (a.size / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(a.size / 1024)) + " KB"; },
    isImage(a) { return (a.content_type || "").indexOf("image/") === 0; },
    async decide(action) {
      if (!this.selected.length) { this.state.message = "请先勾选报名"; return; }
      this.state.busy = true; this.rowErrors = {};
      const body = {registration_ids: this.selected, action};
      if (this.reason) body.reason = this.reason;
      const result = await api("POST", "/api/v1/registrations/decisions", body);
      this.state.busy = false;
      if (!result.ok) { Console.showResult(this.state, result); this.reasonError = this.state.errors.reason || ""; return; }
      const errors = {};
      for (const r of result.data.results) if (!r.ok) errors[r.id] = r.message;
      // A missing reason concerns the reason box, not the rows: said there once.
      const noReason = result.data.results.find((r) => !r.ok && r.code === "REASON_REQUIRED");
      this.reasonError = noReason ? noReason.message : "";
      this.rowErrors = errors;
      this.state.message = result.data.failed ? result.data.failed + " 条未能办理（原因见各行）" : "";
      this.state.ok = result.data.succeeded ? "已办理 " + result.data.succeeded + " 条" : "";
      this.selected = Object.keys(errors);
      await this.load(); this.countPending();
      this.rowErrors = errors;
    },
    recommend() { this.decide("recommend"); },
    giveBack() { this.decide("return"); },
  }));

  Alpine.data("leavePage", () => Object.assign(Console.pager(50), {
    items: [], comments: {}, rowErrors: {}, state: Console.formState(), filter: "submitted",
    init() { this.load(); },
    async load() {
      const params = this.pageQuery(new URLSearchParams({state: this.filter}));
      const result = await api("GET", "/api/v1/leave-requests?" + params.toString());
      if (!result.ok) { this.state.message = result.data.message; return; }
      if (this.pageLoaded(result.data)) this.items = result.data.items;
    },
    time(value) { return Console.time(value); },
    rowError(item) { return this.rowErrors[item.id] || ""; },
    sessionsText(l) { const n = (l.session_ids || []).length; return n ? "涉及 " + n + " 节课" : "不涉及课程"; },
    // Sessions attended so far (on time + late), as the attendance rules count them.
    attendedText(l) {
      const a = l.attendance_so_far || {present: 0, late: 0};
      return (a.present + a.late) + " 次" + (a.late ? "（迟到 " + a.late + "）" : "") + (a.absent ? "，缺勤 " + a.absent : "");
    },
    async decide(item, action) {
      const body = {action};
      if (this.comments[item.id]) body.comment = this.comments[item.id];
      const result = await api("POST", "/api/v1/leave-requests/" + item.id + "/decision", body);
      const errors = Object.assign({}, this.rowErrors);
      if (result.ok) { delete errors[item.id]; this.state.ok = action === "approve" ? "已批准" : "已驳回"; }
      else errors[item.id] = Console.fieldOrMessage(result, "comment");  // once: "请填写意见" beside the box
      this.rowErrors = errors;
      this.load();
    },
    approve(item) { this.decide(item, "approve"); },
    reject(item) { this.decide(item, "reject"); },
  }));
});
