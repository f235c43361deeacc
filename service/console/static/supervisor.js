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
      const found = [], now = Date.now();
      for (const klass of classes.items) {
        const timetable = await api("GET", "/api/v1/classes/" + klass.id + "/sessions");
        if (!timetable.ok) continue;
        for (const s of timetable.data.sessions) {
          // Today's (a Beijing day), and one still running that began on an earlier day: a session
          // open past midnight was missing from 00:00 on.
          const running = Date.parse(s.starts_at) <= now && now < Date.parse(s.ends_at);
          if (s.date === this.today || running) found.push(Object.assign({class_name: klass.name}, s));
        }
      }
      found.sort((a, b) => (a.starts_at < b.starts_at ? -1 : 1));
      // Each session's check-in state and counts, as its board says (closed is read afresh there).
      const boards = await Promise.all(found.map((s) => api("GET", "/api/v1/sessions/" + s.id + "/board")));
      found.forEach((s, i) => { s.board = boards[i].ok ? boards[i].data : null; });
      this.sessions = found;
    },
    checkinState(s) {
      const b = s.board, now = Date.now();
      if (s.status === "cancelled" || (b && b.cancelled)) return "已取消";
      if (b && b.closed) return "签到已结束";
      if (now < Date.parse(s.checkin_opens_at)) return "未开始";
      if (b && now > Date.parse(b.checkin_closes_at)) return "签到时间已过，待结束";
      return "签到中";
    },
    stateClass(s) {
      return {"签到中": "badge green", "签到已结束": "badge", "已取消": "badge red", "签到时间已过，待结束": "badge amber"}[this.checkinState(s)] || "badge";
    },
    countsText(s) { return s.board ? s.board.counts.checked_in + " / " + s.board.counts.expected : "—"; },
    clock(value) { return Console.clock(value); },
    link(s) { return "/console/board/" + s.id; },
  }));

  const STATUS_NAMES = {present: "已签到", late: "迟到", absent: "缺勤", excused: "请假", cancelled: "已取消"};

  Alpine.data("boardPage", () => ({
    id: "", board: null, state: Console.formState(), marks: {}, reasons: {}, rowErrors: {}, projector: "",
    projectorUrl: "", projectorUntil: "",
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
    leaveType(type) { return {sick: "病假", personal: "事假", official: "公务", other: "其他"}[type] || "其他"; },
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
      if (result.ok) {
        // Opened here on this desk's origin; the full link (with its 12-hour limit) to copy to the projector's computer.
        const url = new URL(result.data.url);
        this.projector = url.pathname + url.search;
        this.projectorUrl = window.location.origin + this.projector;
        this.projectorUntil = Console.time(result.data.expires_at);
      }
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
