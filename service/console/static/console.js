// Staff console: the JSON API helper and the Alpine.js components shared by every page.
// Every call goes to /api/v1 with the console session cookie (sent by the browser, HttpOnly)
// and, for writes, the page's CSRF token. Refusals come back in the API's error shape
// {code, message, errors: {field: [中文]}} and are shown next to the field they concern.
"use strict";

window.Console = (function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  async function api(method, url, body, options) {
    const headers = {"Accept": "application/json"};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (options && options.headers) Object.assign(headers, options.headers);
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    let response;
    try {
      response = await fetch(url, {method, headers, body: payload, credentials: "same-origin", cache: "no-store"});
    } catch (e) {
      return {ok: false, status: 0, data: {code: "NETWORK", message: "网络连接失败，请稍后重试", errors: {}}};
    }
    if (response.status === 401 && !(options && options.noRedirect)) {
      // The session ended elsewhere (logout in another tab, idle expiry): the QR screen says so and
      // brings the user back to this page once logged in again.
      window.location.href = "/console/?ended=1&next=" + encodeURIComponent(window.location.pathname + window.location.search);
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    if (!response.ok && !data) data = {code: "HTTP_" + response.status, message: "请求失败（" + response.status + "）", errors: {}};
    return {ok: response.ok, status: response.status, data};
  }

  // Flatten {field: [msg]} or nested {field: {0: [msg]}} into {field: "msg"} for display.
  function fieldErrors(errors) {
    const out = {};
    function walk(prefix, value) {
      if (Array.isArray(value)) { out[prefix] = value.filter((v) => typeof v === "string").join("；"); return; }
      if (value && typeof value === "object") {
        for (const key of Object.keys(value)) walk(prefix ? prefix + "." + key : key, value[key]);
        return;
      }
      if (typeof value === "string") out[prefix] = value;
    }
    walk("", errors || {});
    return out;
  }

  const beijing = new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false});
  const beijingDay = new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit"});
  const beijingTime = new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false});

  function time(value) { return value ? beijing.format(new Date(value)) : "—"; }
  function clock(value) { return value ? beijingTime.format(new Date(value)) : "—"; }
  function day(value) { return beijingDay.format(value ? new Date(value) : new Date()); }
  function percent(value) { return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%"; }

  // A region's name from its GB/T 2260 code (the list the server renders into <body data-regions>).
  let regionNames = null;
  function regionName(code) {
    if (regionNames === null) {
      try { regionNames = JSON.parse(document.body.dataset.regions || "{}"); } catch (e) { regionNames = {}; }
    }
    return regionNames[code] || code || "—";
  }

  // A form-ish component state: busy flag, message, per-field errors.
  function formState() {
    return {busy: false, message: "", code: "", ok: "", errors: {}};
  }

  function showResult(state, result, okText) {
    state.busy = false;
    if (result.ok) { state.message = ""; state.code = ""; state.errors = {}; state.ok = okText || "已保存"; return true; }
    state.ok = "";
    state.message = result.data.message || "操作失败";
    state.code = result.data.code || "";
    state.errors = fieldErrors(result.data.errors);
    return false;
  }

  // A rule's refusal (not VALIDATION_ERROR) naming one field is said once, beside that field, in the
  // rule's own words (they name what clashed: "课程“A”与“B”时间重叠"); the line beside the submit
  // button then stays empty. Field errors of a validation refusal stay each beside its field, with
  // "填写的内容有误…" beside the button (it points to fields that may be scrolled out of view).
  function ruleField(state) {
    const named = Object.keys(state.errors || {}).filter((field) => state.errors[field]);
    return state.code && state.code !== "VALIDATION_ERROR" && named.length === 1 ? named[0] : null;
  }
  function fieldText(state, field) { return ruleField(state) === field ? state.message : (state.errors[field] || ""); }
  // The message for the line beside the button, "" when fieldText already shows it beside a field in `shown`.
  function otherMessage(state, shown) {
    const field = ruleField(state);
    return field !== null && shown.includes(field) ? "" : state.message;
  }

  // One line for a refusal shown on its own (a table row's reason box): the field's words when the API
  // names that field, else the message — never both saying the same thing.
  function fieldOrMessage(result, field) {
    const fields = fieldErrors(result.data.errors);
    return fields[field] || result.data.message || "操作失败";
  }

  // Every item of a paged list (GET ...?page=&page_size=100 until `total` is reached), for pickers that
  // must offer every class, programme or supervisor. {ok, items, total} or the failed call's {ok, data}.
  async function fetchAll(url) {
    const items = [];
    const join = url.indexOf("?") >= 0 ? "&" : "?";
    for (let page = 1; ; page += 1) {
      const result = await api("GET", url + join + "page_size=100&page=" + page);
      if (!result.ok) return result;
      items.push(...result.data.items);
      if (!result.data.items.length || items.length >= result.data.total) return {ok: true, items, total: result.data.total};
    }
  }

  // Paging controls for a list the API pages ({items, page, page_size, total}; page_size at most 100).
  // Mixed into a page component that has `load()`; `pageQuery(params)` adds page and page_size to its
  // URLSearchParams and `pageLoaded(data)` takes the answer (`false`: the page emptied, e.g. after the
  // last items were decided, and an earlier page is being loaded instead).
  const PAGE_SIZES = [20, 50, 100];
  function pager(pageSize) {
    return {
      page: 1, pageSize: pageSize || 50, total: 0, pageSizes: PAGE_SIZES,
      // What the rows on screen are (the answer's page, page_size and item count): the texts describe
      // them, not a page still being fetched.
      shown: {page: 1, size: pageSize || 50, count: 0},
      pageCount() { return Math.max(1, Math.ceil(this.total / this.shown.size)); },
      hasPrev() { return this.shown.page > 1; },
      hasNext() { return this.shown.page < this.pageCount(); },
      pageText() {
        if (!this.total) return "共 0 条";
        const first = (this.shown.page - 1) * this.shown.size + 1, last = first + this.shown.count - 1;
        return "共 " + this.total + " 条" + (this.pageCount() > 1 ? "，第 " + first + "–" + last + " 条" : "");
      },
      pageOf() { return "第 " + this.shown.page + " / " + this.pageCount() + " 页"; },
      pageQuery(params) { params.set("page", String(this.page)); params.set("page_size", String(this.pageSize)); return params; },
      pageLoaded(data) {
        if (!data.items.length && this.page > 1 && data.total > 0) {
          this.page = Math.max(1, Math.ceil(data.total / this.pageSize)); this.load(); return false;
        }
        this.total = data.total;
        this.shown = {page: data.page, size: data.page_size, count: data.items.length};
        return true;
      },
      goTo(page) { this.page = Math.min(Math.max(1, page), this.pageCount()); this.load(); },
      prevPage() { if (this.hasPrev()) this.goTo(this.shown.page - 1); },
      nextPage() { if (this.hasNext()) this.goTo(this.shown.page + 1); },
      firstPage() { this.goTo(1); },
      lastPage() { this.goTo(this.pageCount()); },
      // A new filter or page size starts again at page 1.
      restart() { this.page = 1; this.pageSize = Number(this.pageSize); this.load(); },
    };
  }

  return {api, fieldErrors, fieldText, otherMessage, fieldOrMessage, regionName, time, clock, day, percent, formState, showResult, csrf, fetchAll, pager};
})();

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;

  Alpine.data("consoleLogin", () => ({
    qr: "", status: "正在生成二维码…", expired: false, error: false, loginId: null, secret: null, expiresAt: 0, checkCode: "",
    timer: null, next: "/console/",
    init() { this.next = this.$el.dataset.next || "/console/"; this.start(); },
    async start() {
      clearTimeout(this.timer);
      this.expired = false; this.error = false; this.status = "正在生成二维码…";
      const result = await Console.api("POST", "/api/v1/auth/console-logins", undefined, {noRedirect: true});
      if (!result.ok) { this.error = true; this.status = result.data.message; return; }
      this.qr = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(result.data.qr_svg); this.loginId = result.data.id; this.secret = result.data.poll_secret;
      this.checkCode = result.data.check_code;
      this.expiresAt = new Date(result.data.expires_at).getTime();
      this.status = "等待扫码确认…（" + Console.clock(result.data.expires_at) + " 前有效）";
      this.poll();
    },
    async poll() {
      if (Date.now() >= this.expiresAt) { this.expire(); return; }
      const result = await Console.api("POST", "/console/session/" + this.loginId, undefined,
        {noRedirect: true, headers: {"X-Console-Login-Secret": this.secret}});
      if (result.status === 200) {
        // data-next: the page asked for, checked by the server to be a /console/ path of this site.
        this.status = "登录成功，正在进入…"; window.location.href = this.next; return;
      }
      if (result.status === 202 || result.status === 0) { this.timer = setTimeout(() => this.poll(), 1500); return; }
      if (result.status === 410) { this.expire(); return; }
      this.error = true; this.status = result.data.message;
    },
    expire() { this.expired = true; this.status = "二维码已过期，请点击刷新"; },
  }));

  Alpine.data("logout", () => ({
    async run() {
      await Console.api("POST", "/console/logout", undefined, {noRedirect: true});
      window.location.href = "/console/";
    },
  }));
});
