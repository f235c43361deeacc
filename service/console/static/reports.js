// Reports with charts: the class report and all-regions table (organizers), the region's KPIs
// (province staff). Charts are Chart.js, kept outside Alpine's reactive state (a Chart must not be
// wrapped in a Proxy); thresholds (90% satisfaction, 30% 小巨人 share, notice 243 附件5) are drawn
// as a line over the bars.
"use strict";

window.ConsoleCharts = (function () {
  const charts = new Map();

  // A bar at or above its threshold is green, below it red, without a threshold blue: the desk sees
  // at a glance which sessions, teachers or regions miss 90% (or 30%). `barThresholds` gives one
  // threshold per bar when they differ (the KPI page's 全部指标).
  const MEETS = "rgba(46, 125, 50, 0.7)", MISSES = "rgba(198, 40, 40, 0.7)", NEUTRAL = "rgba(21, 101, 192, 0.6)";
  function barColour(value, threshold) {
    if (threshold === null || threshold === undefined || value === null || value === undefined) return NEUTRAL;
    return value >= threshold ? MEETS : MISSES;
  }

  function bars(canvasId, labels, values, label, threshold, thresholdLabel, barThresholds) {
    const canvas = document.getElementById(canvasId);
    if (!canvas || !window.Chart) return;
    if (charts.has(canvasId)) charts.get(canvasId).destroy();
    const colours = values.map((v, i) => barColour(v, barThresholds ? barThresholds[i] : threshold));
    const datasets = [{type: "bar", label, data: values.map((v) => (v === null || v === undefined ? null : v * 100)),
                       backgroundColor: colours}];
    // Every bar is labelled (no skipped region or teacher names); long names turn rather than vanish.
    const scales = {x: {ticks: {autoSkip: false, maxRotation: 90, minRotation: 0}},
                    y: {min: 0, max: 100, ticks: {callback: (v) => v + "%"}}};
    if (threshold !== undefined && threshold !== null) {
      // The threshold line runs across the whole plot, from the first bar's left edge to the last bar's
      // right edge: on a hidden linear axis from -0.5 to n-0.5, which lines up with the bars' slots.
      scales.edge = {type: "linear", display: false, min: -0.5, max: labels.length - 0.5};
      datasets.push({type: "line", label: thresholdLabel || "目标", xAxisID: "edge",
                     data: [{x: -0.5, y: threshold * 100}, {x: labels.length - 0.5, y: threshold * 100}],
                     borderColor: "#2e7d32", borderDash: [6, 4], fill: false, pointRadius: 0, pointStyle: "line"});
    }
    charts.set(canvasId, new window.Chart(canvas, {
      data: {labels, datasets},
      options: {animation: false, responsive: true, maintainAspectRatio: false, scales,
                plugins: {legend: {position: "bottom"}}},
    }));
  }

  // Attendance per session: stacked counts (出勤 / 迟到 / 请假 / 缺勤) on the left axis, the
  // attendance rate as a line on the right (0–100%), so a desk sees both who and how many.
  function attendance(canvasId, sessions) {
    const canvas = document.getElementById(canvasId);
    if (!canvas || !window.Chart) return;
    if (charts.has(canvasId)) charts.get(canvasId).destroy();
    const labels = sessions.map((s) => s.title);
    const stack = (label, key, color) => ({type: "bar", label, data: sessions.map((s) => s[key]), backgroundColor: color,
                                           stack: "marks", yAxisID: "y"});
    charts.set(canvasId, new window.Chart(canvas, {
      data: {labels, datasets: [
        stack("出勤", "present", "rgba(46, 125, 50, 0.75)"), stack("迟到", "late", "rgba(249, 168, 37, 0.8)"),
        stack("请假", "excused", "rgba(120, 144, 156, 0.7)"), stack("缺勤", "absent", "rgba(198, 40, 40, 0.75)"),
        {type: "line", label: "出勤率", data: sessions.map((s) => (s.attendance_rate === null ? null : s.attendance_rate * 100)),
         borderColor: "#1565c0", backgroundColor: "#1565c0", yAxisID: "rate", tension: 0}]},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                scales: {y: {stacked: true, beginAtZero: true, ticks: {precision: 0}, title: {display: true, text: "人次"}},
                         x: {stacked: true},
                         rate: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false},
                                ticks: {callback: (v) => v + "%"}}},
                plugins: {legend: {position: "bottom"}}},
    }));
  }

  // The class report's charts (organizer's 统计报表 and the supervisor's / province's 班级报表 pages).
  function classReport(report) {
    const sessions = report.attendance.sessions.filter((s) => s.held);
    attendance("chart-attendance", sessions);
    const sat = report.satisfaction || {};
    bars("chart-session-satisfaction", (sat.sessions || []).map((s) => s.title),
      (sat.sessions || []).map((s) => s.satisfaction_rate), "课程满意度", sat.threshold, "90% 目标");
    bars("chart-teachers", (sat.teachers || []).map((t) => t.teacher),
      (sat.teachers || []).map((t) => t.satisfaction_rate), "教师满意度", sat.threshold, "90% 目标");
    bars("chart-dimensions", (sat.dimensions || []).map((d) => d.label),
      (sat.dimensions || []).map((d) => d.satisfaction_rate), "维度满意度", sat.threshold, "90% 目标");
  }

  return {bars, attendance, classReport, MEETS, MISSES, NEUTRAL};
})();

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  const api = Console.api;

  Alpine.data("reportsPage", () => ({
    year: new Date().getFullYear(), classes: [], classId: "", report: null, regions: null,
    state: Console.formState(),
    init() { this.load(); },
    async load() {
      const result = await Console.fetchAll("/api/v1/classes");
      if (result.ok) {
        this.classes = result.items;
        if (this.classes.length && !this.classId) { this.classId = this.classes[0].id; this.year = this.classes[0].year; }
      }
      this.loadClass(); this.loadRegions();
    },
    percent(value) { return Console.percent(value); },
    classExcel() { return "/api/v1/reports/classes/" + this.classId + ".xlsx"; },
    regionsExcel() { return "/api/v1/reports/years/" + this.year + "/regions.xlsx"; },
    rosterExcel() { return "/api/v1/years/" + this.year + "/roster.xlsx"; },
    evaluationExcel() { return "/api/v1/years/" + this.year + "/evaluation.xlsx"; },
    classPlanExcel() { return "/api/v1/years/" + this.year + "/class-plan.xlsx"; },
    async loadClass() {
      if (!this.classId) return;
      const result = await api("GET", "/api/v1/reports/classes/" + this.classId);
      if (!result.ok) { this.state.message = result.data.message; return; }
      this.report = result.data;
      await this.$nextTick();
      ConsoleCharts.classReport(result.data);
    },
    async loadRegions() {
      const result = await api("GET", "/api/v1/reports/years/" + this.year + "/regions");
      if (!result.ok) { this.state.message = result.data.message; return; }
      this.regions = result.data;
      await this.$nextTick();
      const rows = result.data.regions.filter((r) => r.trainees_trained > 0 || r.little_giants.in_registry > 0);
      ConsoleCharts.bars("chart-regions", rows.map((r) => r.region_name), rows.map((r) => r.little_giants.share),
        "小巨人企业覆盖率", rows.length ? rows[0].little_giants.threshold : 0.3, "30% 目标");
      const rated = result.data.regions.filter((r) => r.satisfaction.class_ratings > 0);
      ConsoleCharts.bars("chart-regions-satisfaction", rated.map((r) => r.region_name), rated.map((r) => r.satisfaction.rate),
        "服务满意度", rated.length ? rated[0].satisfaction.threshold : 0.9, "90% 目标");
    },
  }));

  // 班级报表 for a class's supervisors and the province staff of its regions: the same API answer
  // (GET /api/v1/reports/classes/{id}, scoped by the API to what each may read) and the same charts.
  Alpine.data("classReportPage", () => ({
    classes: [], classId: "", report: null, state: Console.formState(),
    async init() {
      const result = await Console.fetchAll("/api/v1/classes?mine=true");
      if (!result.ok) { this.state.message = result.data.message; return; }
      this.classes = result.items;
      if (this.classes.length) { this.classId = this.classes[0].id; this.load(); }
    },
    percent(value) { return Console.percent(value); },
    excel() { return "/api/v1/reports/classes/" + this.classId + ".xlsx"; },
    async load() {
      if (!this.classId) return;
      const result = await api("GET", "/api/v1/reports/classes/" + this.classId);
      if (!result.ok) { this.state.message = result.data.message; this.report = null; return; }
      this.state.message = "";
      this.report = result.data;
      await this.$nextTick();
      ConsoleCharts.classReport(result.data);
    },
  }));

  Alpine.data("kpisPage", () => ({
    region: "", year: new Date().getFullYear(), kpis: null, state: Console.formState(),
    init() { this.region = this.$el.dataset.region; this.load(); },
    percent(value) { return Console.percent(value); },
    meets(flag) { return flag ? "kpi good" : "kpi bad"; },
    excel() { return "/api/v1/reports/regions/" + this.region + "/years/" + this.year + ".xlsx"; },
    async load() {
      const result = await api("GET", "/api/v1/reports/regions/" + this.region + "/years/" + this.year);
      if (!result.ok) { this.state.message = result.data.message; this.kpis = null; return; }
      this.state.message = "";
      this.kpis = result.data;
      await this.$nextTick();
      const k = result.data;
      ConsoleCharts.bars("chart-kpis", ["小巨人企业覆盖率（目标30%）", "服务满意度（目标90%）", "资格审核完成率", "培训档案完整率"],
        [k.little_giants.share, k.satisfaction.rate, k.review.share, k.archives.share], "本地区", null, null,
        [k.little_giants.threshold, k.satisfaction.threshold, null, null]);
      ConsoleCharts.bars("chart-little-giants", ["小巨人企业覆盖率"], [k.little_giants.share], "本地区",
        k.little_giants.threshold, "30% 目标");
      ConsoleCharts.bars("chart-satisfaction", ["服务满意度"], [k.satisfaction.rate], "本地区",
        k.satisfaction.threshold, "90% 目标");
    },
  }));
});
