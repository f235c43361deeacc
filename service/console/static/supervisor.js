// Supervisor (班主任) pages: today's sessions of my classes, and the live board of one session
// (polls the API every 3 s while the page is visible), manual marks, projector link, closing.
"use strict";

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  const api = Console.api;
  const FLAG_NAMES = {shared_device: "同一设备签到多人", out_of_range: "不在签到范围", no_location: "未获取位置", offline: "离线补传"};

  Alpine.data("todayPage", () => ({
    sessions: [], state: Console.formState(), today: Console.day(),
    init() { this.load(); },
    async load() {
      const classes = await Console.fetchAll("/api/v1/classes?mine=true");
      if (!classes.ok) { this.state.message = classes.data.message; return; }
      const found = [];
      for (const klass of classes.items) {
        const timetable = await api("GET", "/api/v1/classes/" + klass.id + "/sessions");
        if (!timetable.ok) continue;
        for (const s of timetable.data.sessions) {
          if (s.date === this.today) found.push(Object.assign({class_name: klass.name}, s));
        }
      }
      found.sort((a, b) => (a.starts_at < b.starts_at ? -1 : 1));
      this.sessions = found;
    },
    clock(value) { return Console.clock(value); },
    link(s) { return "/console/board/" + s.id; },
  }));

  const STATUS_NAMES = {present: "已签到", late: "迟到", absent: "缺勤", excused: "请假", cancelled: "已取消"};

  Alpine.data("boardPage", () => ({
    id: "", board: null, state: Console.formState(), marks: {}, reasons: {}, rowErrors: {}, projector: "",
    updatedAt: "", timer: null, confirmClose: false,
    // Every trainee's status for this session (the class attendance sheet's column), for corrections
    // at any time — also after closing, when nobody is "missing" any more — and the names of the late.
    sheet: [], sheetKey: "", sheetFilter: "",
    init() {
      this.id = this.$el.dataset.sessionId;
      this.refresh();
      document.addEventListener("visibilitychange", () => { if (!document.hidden) this.refresh(); });
    },
    async refresh() {
      clearTimeout(this.timer);
      const result = await api("GET", "/api/v1/sessions/" + this.id + "/board");
      if (result.ok) {
        this.board = result.data; this.updatedAt = Console.clock(new Date().toISOString());
        const key = JSON.stringify([result.data.counts, result.data.closed]);
        if (key !== this.sheetKey) { this.sheetKey = key; this.loadSheet(); }
      }
      else this.state.message = result.data.message;
      if (!document.hidden) this.timer = setTimeout(() => this.refresh(), 3000);
    },
    async loadSheet() {
      const result = await api("GET", "/api/v1/classes/" + this.board.class_id + "/attendance-sheet");
      if (!result.ok) return;
      const column = result.data.sessions.findIndex((s) => s.id === this.id);
      this.sheet = result.data.trainees.map((t) => ({registration_id: t.registration_id, name: t.name,
        region_code: t.region_code, status: column < 0 ? null : t.statuses[column]}));
    },
    statusName(status) { return STATUS_NAMES[status] || "未签到"; },
    statusClass(status) { return {present: "badge green", late: "badge amber", absent: "badge red"}[status] || "badge"; },
    sheetRows() { return this.sheetFilter ? this.sheet.filter((t) => (t.status || "none") === this.sheetFilter) : this.sheet; },
    // Supervisors get full numbers (a tel: link), others masked ones: only a full number is dialled.
    telLink(mobile) { return mobile && /^\d{11}$/.test(mobile) ? "tel:" + mobile : null; },
    clock(value) { return Console.clock(value); },
    regionName(code) { return Console.regionName(code); },
    flagName(kind) { return FLAG_NAMES[kind] || kind; },
    leaveType(type) { return {sick: "病假", personal: "事假", official: "公假"}[type] || type; },
    rowError(person) { return this.rowErrors[person.registration_id] || ""; },
    async mark(person, fallback) {
      const status = this.marks[person.registration_id] || fallback || "present";
      const body = {status, reason: this.reasons[person.registration_id] || ""};
      const result = await api("PUT", "/api/v1/sessions/" + this.id + "/attendance/" + person.registration_id, body);
      const errors = Object.assign({}, this.rowErrors);
      if (result.ok) {
        delete errors[person.registration_id]; this.sheetKey = "";
        const reasons = Object.assign({}, this.reasons); delete reasons[person.registration_id]; this.reasons = reasons;
      }
      else {
        const fields = Console.fieldErrors(result.data.errors);
        errors[person.registration_id] = fields.reason ? "原因：" + fields.reason : result.data.message;
      }
      this.rowErrors = errors;
      this.refresh();
    },
    async projectorLink() {
      const result = await api("POST", "/api/v1/sessions/" + this.id + "/projector-link");
      if (result.ok) { this.projector = new URL(result.data.url).pathname + new URL(result.data.url).search; }
      else this.state.message = result.data.message;
    },
    askClose() { this.confirmClose = true; },
    keepOpen() { this.confirmClose = false; },
    async close() {
      this.state.busy = true;
      const result = await api("POST", "/api/v1/sessions/" + this.id + "/close");
      this.confirmClose = false;
      if (Console.showResult(this.state, result, "")) {
        this.state.ok = "已结束签到：记缺勤 " + result.data.absent + " 人，记请假 " + result.data.excused + " 人";
        this.refresh();
      }
    },
  }));
});
