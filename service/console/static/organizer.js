// Organizer (组织方) pages: programme years, classes, one class, registry import, admissions,
// certificates, reports. Every action is one call of the JSON API; refusals are shown as the
// API words them, next to the field named in `errors`.
"use strict";

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  const api = Console.api;
  const AREAS = ["科学理论", "形势政策", "经营管理", "专精特新发展"];
  const KIND_NAMES = {national: "全国班", regional: "地方班", topical: "专题班", little_giant: "小巨人专题班"};
  // Class and programme statuses (service.classes.service.STATUS_NAMES and the programme states).
  const STATUS_NAMES = {draft: "草稿", published: "已发布", in_progress: "进行中", finished: "已结束", cancelled: "已取消",
    archived: "已归档"};
  const SESSION_KINDS = {lecture: "讲座", site_visit: "现场教学", discussion: "研讨"};

  const SWITCHES = ["require_little_giant", "exclude_prior_trainees", "one_enterprise_per_year"];
  const FIELD_NAMES = {status: "状态", capacity: "容量", venue: "上课地点", content_areas: "课程内容", name: "名称",
    institution: "承办机构", start_date: "开班日期", end_date: "结业日期", registration_deadline: "报名截止",
    registration_opens_at: "报名开始", confirmation_deadline: "确认参训截止", minutes_per_class_hour: "每课时分钟数",
    checkin_settings: "签到设置", title: "课程名称", teacher: "授课人", starts_at: "开始", ends_at: "结束", checkin: "签到时段",
    kind: "形式", content_area: "内容", supervisors: "班主任"};
  // "quota.440000" -> "名额 440000", "session.teacher" -> "课程 授课人".
  function changeFieldName(key) {
    const [head, rest] = key.split(/\.(.*)/s);
    if (head === "quota") return "名额 " + rest;
    if (head === "session") return "课程" + (FIELD_NAMES[rest] || rest);
    return FIELD_NAMES[key] || key;
  }

  // 培训年度: create, edit (PATCH: name, kind, topic, eligibility switches; the year stays), publish.
  // One form serves both: `editing` holds the programme being changed, null when creating.
  Alpine.data("programmesPage", () => Object.assign(Console.pager(20), {
    items: [], editing: null, form: {}, state: Console.formState(), listState: Console.formState(),
    kinds: Object.entries(KIND_NAMES).map(([value, label]) => ({value, label})),
    init() { this.blank(); this.load(); },
    blank() {
      this.editing = null;
      this.form = {year: new Date().getFullYear(), name: "", kind: "national", topic: "",
                   require_little_giant: false, exclude_prior_trainees: false, one_enterprise_per_year: true};
    },
    async load() {
      const result = await api("GET", "/api/v1/programmes?" + this.pageQuery(new URLSearchParams()).toString());
      if (!result.ok) { this.listState.message = result.data.message; return; }
      if (this.pageLoaded(result.data)) this.items = result.data.items;
    },
    kindName(kind) { return KIND_NAMES[kind] || kind; },
    statusName(status) { return STATUS_NAMES[status] || status; },
    err(field) { return this.state.errors[field] || ""; },
    // The national year's roster (every region and class of the year): GET /api/v1/years/{year}/roster.xlsx.
    rosterExcel(p) { return "/api/v1/years/" + p.year + "/roster.xlsx"; },
    rules(p) {
      const out = [];
      if (p.require_little_giant) out.push("限小巨人企业");
      if (p.exclude_prior_trainees) out.push("往期学员不得报名");
      if (p.one_enterprise_per_year) out.push("每企业每年一人");
      return out.join("、") || "—";
    },
    formTitle() { return this.editing ? "修改培训项目：" + this.editing.year + " " + this.editing.name : "新建培训项目"; },
    edit(p) {
      this.state = Console.formState();
      this.editing = p;
      this.form = {year: p.year, name: p.name, kind: p.kind, topic: p.topic || "", require_little_giant: p.require_little_giant,
                   exclude_prior_trainees: p.exclude_prior_trainees, one_enterprise_per_year: p.one_enterprise_per_year};
    },
    stopEditing() { this.state = Console.formState(); this.blank(); },
    body() {
      const f = this.form, body = {name: f.name, kind: f.kind, topic: f.topic.trim() ? f.topic : null};
      for (const name of SWITCHES) body[name] = !!f[name];
      return body;
    },
    async save() {
      this.state.busy = true;
      if (this.editing) {
        const result = await api("PATCH", "/api/v1/programmes/" + this.editing.id, this.body());
        // The form shows what the API stored (a 小巨人 programme comes back limited to 小巨人 enterprises).
        if (Console.showResult(this.state, result)) { this.edit(result.data); this.state.ok = "已保存"; this.load(); }
        return;
      }
      const result = await api("POST", "/api/v1/programmes", Object.assign({year: Number(this.form.year)}, this.body()));
      if (Console.showResult(this.state, result, "已创建")) { this.blank(); this.load(); }
    },
    async publish(item) {
      const result = await api("POST", "/api/v1/programmes/" + item.id + "/status", {status: "published"});
      Console.showResult(this.listState, result, "已发布");
      this.load();
    },
  }));

  Alpine.data("classesPage", () => Object.assign(VenuePicker.mixin("form"), Console.pager(50), {
    items: [], programmes: [], areas: AREAS, state: Console.formState(),
    form: {programme_id: "", name: "", institution: "", start_date: "", end_date: "", capacity: 80,
           content_areas: ["科学理论", "形势政策"], venue_name: "", venue_address: "", latitude: "", longitude: "",
           checkin_radius_m: 300},
    init() { this.load(); },
    async load() {
      const [classes, programmes] = await Promise.all([
        api("GET", "/api/v1/classes?" + this.listQuery()),
        this.programmes.length ? null : Console.fetchAll("/api/v1/programmes")]);
      if (!classes.ok) {  // a refused filter (a year out of range): said next to the filters, no stale rows
        this.items = []; this.total = 0;
        this.listError = Console.fieldErrors(classes.data.errors).year || classes.data.message;
      } else if (this.pageLoaded(classes.data)) { this.items = classes.data.items; this.listError = ""; }
      if (programmes && programmes.ok) {
        this.programmes = programmes.items;
        if (!this.form.programme_id && this.programmes.length) this.form.programme_id = this.programmes[0].id;
      }
    },
    statusName(status) { return STATUS_NAMES[status] || status; },
    err(field) { return Console.fieldText(this.state, field); },
    otherMessage() {
      return Console.otherMessage(this.state, ["programme_id", "name", "institution", "start_date", "end_date", "capacity",
        "content_areas", "venue.name", "venue.address", "venue.latitude", "venue.longitude", "venue.checkin_radius_m"]);
    },
    link(item) { return "/console/classes/" + item.id; },
    // Filters of the list (the API's `year` and `status`); a national year holds hundreds of classes.
    filterYear: "", filterStatus: "", listError: "",
    statuses: Object.entries(STATUS_NAMES).map(([value, label]) => ({value, label})),
    listQuery() {
      const params = this.pageQuery(new URLSearchParams());
      if (String(this.filterYear).trim()) params.set("year", String(this.filterYear).trim());
      if (this.filterStatus) params.set("status", this.filterStatus);
      return params.toString();
    },
    async create() {
      this.state.busy = true;
      const f = this.form;
      const body = {programme_id: f.programme_id, name: f.name, institution: f.institution, start_date: f.start_date,
        end_date: f.end_date, capacity: Number(f.capacity), content_areas: f.content_areas,
        venue: {name: f.venue_name, address: f.venue_address, latitude: VenuePicker.coordinate(f.latitude),
                longitude: VenuePicker.coordinate(f.longitude), checkin_radius_m: Number(f.checkin_radius_m)}};
      const result = await api("POST", "/api/v1/classes", body);
      if (Console.showResult(this.state, result, "已创建")) window.location.href = "/console/classes/" + result.data.id;
    },
  }));

  Alpine.data("classPage", () => Object.assign(VenuePicker.mixin("edit"), {
    id: "", klass: null, state: Console.formState(), quotaState: Console.formState(),
    sessionState: Console.formState(), supervisorState: Console.formState(), statusState: Console.formState(),
    newQuota: {region_code: "", places: 10}, cancelReason: "", supervisors: [], chosen: [],
    session: {title: "", teacher: "", content_area: "经营管理", kind: "lecture", date: "", start: "09:00", end: "11:30"},
    edit: {capacity: 0, content_areas: [], venue_name: "", venue_address: "", latitude: 0, longitude: 0, checkin_radius_m: 300,
           minutes_per_class_hour: 45},
    // The timetable row open for editing or cancelling: {id, mode: "edit" | "cancel"}; one at a time.
    panel: null, rowForm: {}, rowState: Console.formState(), cancelForm: {reason: ""},
    areas: AREAS, kinds: Object.entries(SESSION_KINDS).map(([value, label]) => ({value, label})),
    init() { this.id = this.$el.dataset.classId; this.load(); this.loadRegions(); },
    async load() {
      if (this.changes !== null) this.loadChanges();
      const result = await api("GET", "/api/v1/classes/" + this.id);
      if (!result.ok) { this.state.message = result.data.message; return; }
      const k = result.data;
      this.klass = k;
      this.edit = {capacity: k.capacity, content_areas: k.content_areas.slice(), venue_name: k.venue.name, venue_address: k.venue.address || "",
                   latitude: k.venue.latitude, longitude: k.venue.longitude, checkin_radius_m: k.venue.checkin_radius_m,
                   minutes_per_class_hour: k.minutes_per_class_hour};
      this.chosen = k.supervisors.map((s) => s.staff_id);
      if (!this.session.date) this.session.date = k.start_date;
      const staff = await Console.fetchAll("/api/v1/staff?role=supervisor");
      if (staff.ok) this.supervisors = staff.items.filter((s) => s.active);
    },
    statusName(status) { return STATUS_NAMES[status] || status; },
    kindName(kind) { return SESSION_KINDS[kind] || kind; },
    time(value) { return Console.time(value); },
    clock(value) { return Console.clock(value); },
    err(state, field) { return Console.fieldText(state, field); },
    // Each form's refusal beside its button, unless the fields' own lines already say it (Console.otherMessage).
    basicsMessage() {
      return Console.otherMessage(this.state, ["capacity", "venue.checkin_radius_m", "minutes_per_class_hour", "content_areas",
        "venue.name", "venue.address", "venue.latitude", "venue.longitude"]);
    },
    quotaMessage() { return Console.otherMessage(this.quotaState, ["region_code", "places", "capacity"]); },
    // Places above the class's capacity: the API names the capacity; here the places typed are the cause.
    quotaPlacesError() { return Console.fieldText(this.quotaState, "places") || Console.fieldText(this.quotaState, "capacity"); },
    sessionMessage() { return Console.otherMessage(this.sessionState, ["title", "teacher", "content_area", "starts_at", "ends_at"]); },
    rowMessage() {
      return Console.otherMessage(this.rowState, ["title", "teacher", "starts_at", "ends_at", "reason",
        "checkin.opens_before_minutes", "checkin.late_after_minutes", "checkin.closes_after_end_minutes"]);
    },
    statusMessage() { return Console.otherMessage(this.statusState, ["reason"]); },
    // A change that may answer an earlier refusal (publishing without quotas or sessions) clears it: a
    // stale "请先分配各地区名额" must not stay beside the button once quotas are there.
    changed() { if (this.statusConfirm === null) this.statusState = Console.formState(); else this.statusState.message = ""; },
    excel(name) { return "/api/v1/classes/" + this.id + "/" + name; },
    async saveBasics() {
      this.state.busy = true;
      const e = this.edit;
      const body = {version: this.klass.version, capacity: Number(e.capacity), content_areas: e.content_areas,
        minutes_per_class_hour: Number(e.minutes_per_class_hour),
        venue: {name: e.venue_name, address: e.venue_address, latitude: VenuePicker.coordinate(e.latitude),
                longitude: VenuePicker.coordinate(e.longitude), checkin_radius_m: Number(e.checkin_radius_m)}};
      const result = await api("PATCH", "/api/v1/classes/" + this.id, body);
      if (Console.showResult(this.state, result)) { this.changed(); this.load(); }
    },
    // A refusal of a region's row (fewer places than used, above capacity) is shown on that row.
    quotaRowErrors: {}, regions: [],
    quotaRowError(q) { return this.quotaRowErrors[q.region_code] || ""; },
    async setQuota(region_code, places, onRow) {
      this.quotaState.busy = true;
      const result = await api("PUT", "/api/v1/classes/" + this.id + "/quotas/" + region_code, {places: Number(places)});
      const rowErrors = Object.assign({}, this.quotaRowErrors);
      delete rowErrors[region_code];
      if (!result.ok && onRow) {
        this.quotaState.busy = false;
        rowErrors[region_code] = Console.fieldErrors(result.data.errors).places || result.data.message;
        if (rowErrors[region_code] !== result.data.message) rowErrors[region_code] = result.data.message + "（" + rowErrors[region_code] + "）";
      } else if (Console.showResult(this.quotaState, result)) { this.changed(); this.load(); }
      this.quotaRowErrors = rowErrors;
    },
    saveQuotaRow(q) { this.setQuota(q.region_code, q.places, true); },
    addQuota() { this.setQuota(this.newQuota.region_code, this.newQuota.places, false); },
    async loadRegions() {
      const result = await api("GET", "/api/v1/reference-lists");
      if (result.ok) this.regions = result.data.regions;
    },
    // The class's change log (recorded from publication on): GET /api/v1/classes/{id}/changes, Beijing times.
    changes: null,
    async loadChanges() {
      const result = await api("GET", "/api/v1/classes/" + this.id + "/changes");
      this.changes = result.ok ? result.data.slice().reverse() : [];
    },
    toggleChanges(event) { if (event.target.open && this.changes === null) this.loadChanges(); },
    changeText(c) {
      const parts = [];
      for (const [key, value] of Object.entries(c.what || {})) {
        if (key === "reason") continue;
        if (value && typeof value === "object" && "old" in value) {
          const name = changeFieldName(key);
          const show = (v) => (key === "status" ? (STATUS_NAMES[v] || v) : (v === null || v === undefined ? "—" : JSON.stringify(v)));
          parts.push(name + "：" + show(value.old) + " → " + show(value.new));
        } else if (key === "session_cancelled") parts.push("取消课程“" + value.title + "”：" + value.reason);
        else if (key === "session_added") parts.push("添加课程“" + value.title + "”");
        else if (key === "session_removed") parts.push("删除课程“" + value.title + "”");
        else if (key !== "session_id") parts.push(key);
      }
      if (c.what && c.what.reason) parts.push("原因：" + c.what.reason);
      return parts.join("；");
    },
    async saveSupervisors() {
      this.supervisorState.busy = true;
      const result = await api("PUT", "/api/v1/classes/" + this.id + "/supervisors", {staff_ids: this.chosen});
      if (Console.showResult(this.supervisorState, result)) { this.changed(); this.load(); }
    },
    async addSession() {
      this.sessionState.busy = true;
      const s = this.session;
      const body = {title: s.title, teacher: s.teacher, content_area: s.content_area, kind: s.kind,
        starts_at: s.date + "T" + s.start + ":00+08:00", ends_at: s.date + "T" + s.end + ":00+08:00"};
      const result = await api("POST", "/api/v1/classes/" + this.id + "/sessions", body);
      if (Console.showResult(this.sessionState, result, "已添加")) { s.title = ""; s.teacher = ""; this.changed(); this.load(); }
    },
    // ---- timetable: in-place edit and cancel (PATCH / POST .../cancel; the API decides, we show its words) ----
    // One table row per session, plus the open panel's row right under its session.
    timetableRows() {
      const rows = [];
      for (const s of this.klass.sessions) {
        rows.push({key: s.id, s, panel: false});
        if (this.panel && this.panel.id === s.id) rows.push({key: s.id + "-" + this.panel.mode, s, panel: true});
      }
      return rows;
    },
    isCancelled(s) { return s.status === "cancelled"; },
    canChange(s) { return !this.isCancelled(s) && ["draft", "published", "in_progress"].includes(this.klass.status); },
    panelIs(mode) { return this.panel !== null && this.panel.mode === mode; },
    startEdit(s) {
      this.panel = {id: s.id, mode: "edit"};
      this.rowState = Console.formState();
      this.rowForm = {title: s.title, teacher: s.teacher, kind: s.kind, date: s.date, start: Console.clock(s.starts_at),
        end: Console.clock(s.ends_at), opens_before_minutes: s.checkin.opens_before_minutes,
        late_after_minutes: s.checkin.late_after_minutes, closes_after_end_minutes: s.checkin.closes_after_end_minutes};
    },
    startCancel(s) { this.panel = {id: s.id, mode: "cancel"}; this.rowState = Console.formState(); this.cancelForm = {reason: ""}; },
    closePanel() { this.panel = null; this.rowState = Console.formState(); },
    rowErr(field) { return Console.fieldText(this.rowState, field); },
    // Class hours (学时) as the API counts them: minutes ÷ minutes per class hour, one decimal
    // (service.classes.rules.session_hours); a preview only, the saved figure comes back from the API.
    minutesOf(date, start, end) {
      const a = Date.parse(date + "T" + start + ":00+08:00"), b = Date.parse(date + "T" + end + ":00+08:00");
      return isNaN(a) || isNaN(b) ? null : (b - a) / 60000;
    },
    previewHours() {
      const minutes = this.minutesOf(this.rowForm.date, this.rowForm.start, this.rowForm.end);
      return minutes === null || minutes <= 0 ? null : Math.round(minutes * 10 / this.klass.minutes_per_class_hour) / 10;
    },
    previewHoursText() { const h = this.previewHours(); return h === null ? "—" : String(h); },
    // Sum of the sessions that take place (a cancelled one counts nowhere), with the edited one's preview.
    sumHours(withPreview) {
      let total = 0;
      for (const s of this.klass.sessions) {
        if (this.isCancelled(s)) continue;
        const editing = withPreview && this.panelIs("edit") && this.panel.id === s.id;
        total += editing ? (this.previewHours() || 0) : s.class_hours;
      }
      return Math.round(total * 10) / 10;
    },
    previewTotalText() { return this.panelIs("edit") ? "修改后合计 " + this.sumHours(true) + " 课时" : ""; },
    rowClass(row) { return this.isCancelled(row.s) && !row.panel ? "cancelled" : (row.panel ? "panel-row" : ""); },
    hoursText(s) { return this.isCancelled(s) ? "0（原 " + s.class_hours + "）" : String(s.class_hours); },
    cancelText(s) { return s.cancelled ? "已取消：" + s.cancelled.reason : ""; },
    async saveEdit() {
      const s = this.klass.sessions.find((x) => x.id === this.panel.id), f = this.rowForm;
      const body = {};
      for (const field of ["title", "teacher", "kind"]) if (f[field] !== s[field]) body[field] = f[field];
      const startsAt = f.date + "T" + f.start + ":00+08:00", endsAt = f.date + "T" + f.end + ":00+08:00";
      if (f.date !== s.date || f.start !== Console.clock(s.starts_at)) body.starts_at = startsAt;
      if (f.date !== s.date || f.end !== Console.clock(s.ends_at)) body.ends_at = endsAt;
      const checkin = {};
      for (const field of ["opens_before_minutes", "late_after_minutes", "closes_after_end_minutes"]) {
        // Sent as typed: a number as a number, anything else as text, so the API words the refusal.
        const typed = String(f[field]).trim(), value = /^-?\d+$/.test(typed) ? Number(typed) : typed;
        if (value !== s.checkin[field]) checkin[field] = value;
      }
      if (Object.keys(checkin).length) body.checkin = checkin;
      if (!Object.keys(body).length) { this.closePanel(); return; }
      this.rowState.busy = true;
      const result = await api("PATCH", "/api/v1/classes/" + this.id + "/sessions/" + s.id, body);
      if (Console.showResult(this.rowState, result, "已保存")) { this.panel = null; this.sessionState.ok = "已保存“" + result.data.title + "”"; this.load(); }
    },
    async confirmCancel() {
      this.rowState.busy = true;
      const result = await api("POST", "/api/v1/classes/" + this.id + "/sessions/" + this.panel.id + "/cancel",
                               {reason: this.cancelForm.reason});
      if (Console.showResult(this.rowState, result, "已取消")) { this.panel = null; this.sessionState.ok = "已取消“" + result.data.title + "”"; this.load(); }
    },
    async removeSession(item) {
      const result = await api("DELETE", "/api/v1/classes/" + this.id + "/sessions/" + item.id);
      Console.showResult(this.sessionState, result, "已删除"); this.load();
    },
    // Publishing and cancelling a class: a confirmation saying what follows (as the API does it) comes
    // first; `statusConfirm` is the status being confirmed, null when no confirmation is open.
    statusConfirm: null,
    askStatus(status) { this.statusState = Console.formState(); this.statusConfirm = status; },
    askPublish() { this.askStatus("published"); },
    askCancel() { this.askStatus("cancelled"); },
    keepStatus() { this.statusConfirm = null; this.statusState = Console.formState(); },
    confirming(status) { return this.statusConfirm === status; },
    placesTaken() { return this.klass.quotas.reduce((sum, q) => sum + q.used, 0); },
    deadlineText() { return Console.time(this.klass.registration_deadline); },
    confirmationDeadlineText() { return Console.time(this.klass.confirmation_deadline); },
    async setStatus(status) {
      this.statusState.busy = true;
      const body = status === "cancelled" ? {status, reason: this.cancelReason} : {status};
      const result = await api("POST", "/api/v1/classes/" + this.id + "/status", body);
      if (Console.showResult(this.statusState, result, status === "published" ? "已发布" : "已取消")) { this.statusConfirm = null; this.load(); }
    },
    publish() { this.setStatus("published"); },
    cancel() { this.setStatus("cancelled"); },
    // Session cancel confirmation: what leaves the counts (the session's class hours).
    cancelHoursText() {
      const s = this.klass.sessions.find((x) => this.panel && x.id === this.panel.id);
      return s ? String(s.class_hours) : "—";
    },
  }));

  // Import failures that running the same file again can cure (service.registry.service INTERRUPTED, FAILED).
  const RETRYABLE_IMPORT_ERRORS = ["REGISTRY_IMPORT_INTERRUPTED", "REGISTRY_IMPORT_FAILED"];

  Alpine.data("registryPage", () => Object.assign(Console.pager(20), {
    progress: 0, phase: "", report: null, state: Console.formState(), history: [], badShown: 100,
    init() { this.loadHistory(); },
    // The report lists up to 10,000 faults (bad_rows_total counts them all): shown 100 at a time.
    shownBadRows() { return this.report ? this.report.bad_rows.slice(0, this.badShown) : []; },
    moreBadRows() { return this.report ? this.report.bad_rows.length - this.badShown : 0; },
    showMoreBadRows() { this.badShown += 100; },
    badRowsText() {
      const r = this.report;
      if (!r || !r.bad_rows_total) return "没有问题行";
      let text = "共 " + r.bad_rows_total + " 处问题，已显示 " + Math.min(this.badShown, r.bad_rows.length) + " 处";
      if (r.bad_rows_truncated) text += "（报告只保留前 " + r.bad_rows.length + " 处，请修改后重新导入）";
      return text;
    },
    stateName(h) { return {queued: "排队", running: "进行中", done: "完成", failed: "失败"}[h.state] || "未知"; },
    stateClass(h) { return {done: "badge green", failed: "badge red", running: "badge amber"}[h.state] || "badge"; },
    // A failed import's figures are not a result (a garbage file reads as 0/0/0/0): shown as "—".
    countText(h, value) { return h.state === "done" ? value : "—"; },
    failureText(h) { return h.error ? h.error.message : "导入失败"; },
    // Retrying helps when the worker stopped or broke mid-way; a file the reader refused fails the same
    // way again (upload a corrected file instead).
    canRetry(h) { return h.state === "failed" && (!h.error || RETRYABLE_IMPORT_ERRORS.includes(h.error.code)); },
    shownId: null,
    // A past import's report (or its failure, or its progress while it runs), or a failed one run again
    // (POST .../retry: 202, then followed like an upload).
    async show(h) { this.state = Console.formState(); this.phase = ""; this.report = null; this.shownId = h.id; this.follow(h.id); },
    async retry(h) {
      this.state = Console.formState(); this.report = null; this.shownId = h.id;
      const result = await api("POST", "/api/v1/registry/imports/" + h.id + "/retry");
      if (!Console.showResult(this.state, result, "")) return;
      this.state.busy = true; this.progress = 0; this.phase = "排队等待导入…"; this.loadHistory(); this.follow(h.id);
    },
    load() { this.loadHistory(); },  // the pager's reload
    async loadHistory() {
      const result = await api("GET", "/api/v1/registry/imports?" + this.pageQuery(new URLSearchParams()).toString());
      if (result.ok && this.pageLoaded(result.data)) this.history = result.data.items;
    },
    time(value) { return Console.time(value); },
    // XMLHttpRequest rather than fetch: only it reports upload progress.
    upload() {
      const input = this.$refs.file;
      if (!input.files.length) { this.state.message = "请选择要导入的文件"; return; }
      const data = new FormData();
      data.append("file", input.files[0]);
      const xhr = new XMLHttpRequest();
      this.report = null; this.state = Console.formState(); this.state.busy = true;
      this.progress = 0; this.phase = "正在上传…";
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) this.progress = Math.round(event.loaded * 100 / event.total);
      };
      // The bar then shows the import itself (rows read), from 0: not a full bar while it waits in the queue.
      xhr.upload.onload = () => { this.progress = 0; this.phase = "上传完成，等待后台导入…"; };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {message: "导入失败（" + xhr.status + "）"}; }
        const result = {ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, data: body};
        if (!result.ok) { Console.showResult(this.state, result); this.phase = ""; return; }
        this.shownId = body.id; this.loadHistory();
        this.follow(body.id);  // 202: the worker imports it; poll its progress
      };
      xhr.onerror = () => { this.state.busy = false; this.phase = ""; this.state.message = "网络连接失败，请稍后重试"; };
      xhr.open("POST", "/api/v1/registry/imports");
      xhr.setRequestHeader("X-CSRF-Token", Console.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.send(data);
    },
    // The import runs in the background: state queued -> running (progress rows_read / rows_total) -> done | failed.
    async follow(importId) {
      const result = await api("GET", "/api/v1/registry/imports/" + importId);
      if (!result.ok) { Console.showResult(this.state, result); this.phase = ""; return; }
      const item = result.data, progress = item.progress || {};
      if (item.state === "done") {
        Console.showResult(this.state, result, "导入完成");
        this.progress = 100; this.phase = "导入完成"; this.badShown = 100; this.report = item; this.loadHistory();
        return;
      }
      if (item.state === "failed") {
        Console.showResult(this.state, {ok: false, data: item.error || {}});
        this.phase = ""; this.loadHistory();
        return;
      }
      this.state.busy = true;
      if (item.state === "running" && progress.rows_total) {
        this.progress = Math.min(99, Math.round(progress.rows_read * 100 / progress.rows_total));
        this.phase = "正在导入：已读 " + progress.rows_read + " / " + progress.rows_total + " 行";
      } else {
        this.progress = 0;
        this.phase = item.state === "running" ? "正在导入…" : "排队等待导入…";
      }
      if (this.shownId !== null && this.shownId !== importId) return;  // another import was opened meanwhile
      setTimeout(() => { if (this.shownId === null || this.shownId === importId) this.follow(importId); }, 1000);
    },
  }));
  // A class picker shared by the admissions and certificates pages.
  function classPicker() {
    return {
      classes: [], classId: "",
      async loadClasses() {
        const result = await Console.fetchAll("/api/v1/classes");
        if (result.ok) {
          this.classes = result.items;
          if (this.classes.length && !this.classId) this.classId = this.classes[0].id;
        }
      },
    };
  }

  Alpine.data("admissionsPage", () => Object.assign(classPicker(), Console.pager(50), {
    items: [], quotas: [], selected: [], reason: "", reasonError: "", filter: "recommended", rowErrors: {}, state: Console.formState(),
    async init() { await this.loadClasses(); this.load(); },
    async load() {
      if (!this.classId) return;
      const params = this.pageQuery(new URLSearchParams({class_id: this.classId}));
      if (this.filter) params.set("state", this.filter);
      const [list, quotas] = await Promise.all([api("GET", "/api/v1/registrations?" + params.toString()),
                                                api("GET", "/api/v1/classes/" + this.classId + "/quotas")]);
      if (list.ok) { if (!this.pageLoaded(list.data)) return; this.items = list.data.items; } else this.state.message = list.data.message;
      if (quotas.ok) this.quotas = quotas.data.quotas;
    },
    rowError(item) { return this.rowErrors[item.id] || ""; },
    regionName(code) { const q = this.quotas.find((x) => x.region_code === code); return q ? q.region_name : code; },
    async decide(action) {
      if (!this.selected.length) { this.state.message = "请先勾选报名"; return; }
      const body = {registration_ids: this.selected, action};
      if (this.reason) body.reason = this.reason;
      const result = await api("POST", "/api/v1/registrations/decisions", body);
      if (!result.ok) { Console.showResult(this.state, result); this.reasonError = this.state.errors.reason || ""; return; }
      const errors = {};
      for (const r of result.data.results) if (!r.ok) errors[r.id] = r.message;
      // A missing reason concerns the reason box, not the rows: said there once.
      const noReason = result.data.results.find((r) => !r.ok && r.code === "REASON_REQUIRED");
      this.reasonError = noReason ? noReason.message : "";
      this.state.message = result.data.failed ? result.data.failed + " 条未能办理（原因见各行）" : "";
      this.state.ok = result.data.succeeded ? "已办理 " + result.data.succeeded + " 条" : "";
      this.selected = Object.keys(errors);
      await this.load();
      this.rowErrors = errors;
    },
    admit() { this.decide("admit"); },
    waitlist() { this.decide("waitlist"); },
    reject() { this.decide("reject"); },
  }));

  Alpine.data("certificatesPage", () => Object.assign(classPicker(), {
    completion: null, certificates: [], reasons: {}, rowErrors: {}, result: null, state: Console.formState(),
    loadError: "", reissuing: null,
    async init() { await this.loadClasses(); this.load(); },
    // Reading the class again after an action must not wipe that action's refusal or result (state):
    // a failed read has its own line (loadError).
    async load() {
      if (!this.classId) return;
      const [completion, certificates] = await Promise.all([
        api("GET", "/api/v1/classes/" + this.classId + "/completion"),
        api("GET", "/api/v1/classes/" + this.classId + "/certificates")]);
      if (completion.ok) { this.completion = completion.data; this.loadError = ""; } else { this.completion = null; this.loadError = completion.data.message; }
      if (certificates.ok) this.certificates = Array.isArray(certificates.data) ? certificates.data : (certificates.data.items || []);
    },
    changeClass() { this.state = Console.formState(); this.reissuing = null; this.load(); },
    percent(value) { return Console.percent(value); },
    regionName(code) { return Console.regionName(code); },
    failedText(row) { return row.failed.map((f) => f.message).join("；"); },
    excel() { return "/api/v1/classes/" + this.classId + "/completion.xlsx"; },
    rowError(item) { return this.rowErrors[item.id] || ""; },
    // A revoked certificate whose trainee holds no valid one of this class: it may be re-issued, one by one.
    canReissue(c) {
      return c.status !== "valid" && !this.certificates.some((o) => o.status === "valid" && o.registration_id === c.registration_id)
        && this.certificates.filter((o) => o.registration_id === c.registration_id).slice(-1)[0] === c;
    },
    issueText(data) {
      let text = "新发证书 " + data.issued.length + " 张，已有 " + data.already_issued.length + " 张，未达条件 " + data.not_eligible.length + " 人";
      const skipped = data.revoked_skipped || [];
      if (skipped.length) {
        text += "；另有 " + skipped.length + " 人的证书已被撤销，未重新发证（" + skipped.map((r) => r.name + " " + r.revoked_number).join("、")
          + "）。如确需重新发证，请在下方该证书行点“重新发证”";
      }
      return text;
    },
    async issue() {
      this.state.busy = true; this.reissuing = null;
      const result = await api("POST", "/api/v1/classes/" + this.classId + "/certificates", {});
      if (Console.showResult(this.state, result, "")) this.state.ok = this.issueText(result.data);
      this.load();
    },
    askReissue(c) { this.reissuing = c.id; },
    keepRevoked() { this.reissuing = null; },
    async reissue(c) {
      this.state.busy = true;
      const result = await api("POST", "/api/v1/classes/" + this.classId + "/certificates",
        {registration_ids: [c.registration_id], reissue_revoked: true});
      this.reissuing = null;
      const errors = Object.assign({}, this.rowErrors);
      delete errors[c.id];
      if (Console.showResult(this.state, result, "")) {
        if (result.data.issued.length) this.state.ok = "已为 " + c.name + " 重新发证：" + result.data.issued[0].number;
        else {
          this.state.ok = "";
          errors[c.id] = result.data.not_eligible.length ? "未达结业条件：" + this.failedText(result.data.not_eligible[0]) : "未重新发证";
        }
      }
      this.rowErrors = errors;
      this.load();
    },
    async revoke(item) {
      const result = await api("POST", "/api/v1/certificates/" + item.id + "/revoke", {reason: this.reasons[item.id] || ""});
      const errors = Object.assign({}, this.rowErrors);
      if (result.ok) delete errors[item.id];
      else {
        const fields = Console.fieldErrors(result.data.errors);
        errors[item.id] = fields.reason ? "原因：" + fields.reason : result.data.message;
      }
      this.rowErrors = errors;
      this.load();
    },
  }));
});
