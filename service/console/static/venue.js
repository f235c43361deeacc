// Venue coordinates for the organizer's class forms: typed, or pasted from a map app's
// "share location" / "copy coordinates", and converted to the GCJ-02 system the check-in compares
// against (the mini-program calls wx.getLocation({type: "gcj02"})).
//
// Why no clickable map here: the console loads nothing from outside (no CDN, no tile server), so a
// real map cannot be drawn; an outline of China drawn by us would be a map published without the
// review every map of China needs (地图审核, 审图号), and a click on a country-sized drawing is off
// by kilometres while the check-in radius is a few hundred metres — every trainee at the venue would
// be refused. Staff already have a map app that finds the building to the metre; what goes wrong in
// practice is the coordinate system (Baidu's BD-09 lies 500–1000 m off GCJ-02; a GPS or foreign map
// gives WGS-84, 100–700 m off) and the order (高德 copies "经度,纬度"). This parser settles both, and the
// page links to the point on a map app so a person can look before saving. Ranges and the both-or-
// neither rule stay with the API, whose refusal the form shows next to the fields.
"use strict";

window.VenuePicker = (function () {
  const NUMBER = "[-+]?\\d{1,3}(?:\\.\\d+)?";
  // China's extent (with a margin): used to tell latitude from longitude and to warn, never to refuse.
  const CHINA = {minLat: 3.5, maxLat: 54, minLng: 73, maxLng: 136};
  const SOURCES = {gcj02: "GCJ-02（高德、腾讯、微信）", bd09: "BD-09（百度地图）", wgs84: "WGS-84（GPS、国外地图）"};

  function inChina(lat, lng) {
    return lat >= CHINA.minLat && lat <= CHINA.maxLat && lng >= CHINA.minLng && lng <= CHINA.maxLng;
  }

  // Degrees, minutes, seconds: 39°54'15.1"N 116°24'26.6"E, 北纬39°54′15″ 东经116°24′27″.
  function fromDms(text) {
    const part = "(北纬|南纬|东经|西经|[NSEW])?\\s*(\\d{1,3})\\s*[°度]\\s*(?:(\\d{1,2}(?:\\.\\d+)?)\\s*['′分])?\\s*(?:(\\d{1,2}(?:\\.\\d+)?)\\s*(?:[\"″]|''|′′|秒))?\\s*([NSEW])?";
    const found = [...text.matchAll(new RegExp(part, "gi"))].filter((m) => m[2] !== undefined);
    if (found.length !== 2) return null;
    const values = {};
    for (const m of found) {
      const hemisphere = (m[1] || m[5] || "").toUpperCase();
      let value = Number(m[2]) + Number(m[3] || 0) / 60 + Number(m[4] || 0) / 3600;
      if (["S", "W", "南纬", "西经"].includes(hemisphere)) value = -value;
      const axis = ["N", "S", "北纬", "南纬"].includes(hemisphere) ? "lat" : (["E", "W", "东经", "西经"].includes(hemisphere) ? "lng" : null);
      values[axis || (values.lat === undefined ? "lat" : "lng")] = value;
    }
    return values.lat !== undefined && values.lng !== undefined ? {lat: values.lat, lng: values.lng} : null;
  }

  // Two plain numbers: "39.9042,116.4074", "116.4074, 39.9042" (高德 order), "39.9042 116.4074".
  // Inside China latitude < 54 < 73 < longitude, so the order is read from the values.
  function fromPair(first, second) {
    if (Math.abs(first) > 60 && Math.abs(second) <= 60) return {lat: second, lng: first, swapped: true};
    return {lat: first, lng: second, swapped: false};
  }

  function param(text, name) {
    const match = text.match(new RegExp("[?&;]" + name + "=([^&#\\s]+)", "i"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function pair(text) {
    const match = text.match(new RegExp("(" + NUMBER + ")\\s*[,，;；\\s]\\s*(" + NUMBER + ")"));
    return match ? [Number(match[1]), Number(match[2])] : null;
  }

  // parse(text, source) -> {lat, lng, source, from, note} in the text's own system, or {error}.
  // `source` (gcj02 / bd09 / wgs84) is what plain numbers are taken to be; a link says its own.
  function read(text, source) {
    const t = String(text || "").trim();
    if (!t) return {error: "请粘贴地图中复制的位置或坐标"};
    const lower = t.toLowerCase();
    if (/(^|\/\/)(surl\.amap\.com|j\.map\.baidu\.com|map\.qq\.com\/m\/|t\.cn)\//.test(lower) && !pair(t)) {
      return {error: "短链接里没有坐标：请在浏览器中打开它，再复制地址栏中的完整链接或页面上的坐标"};
    }
    if (lower.includes("baidu.com")) {
      const location = param(t, "location") || param(t, "latlng");
      const numbers = location ? pair(location) : pair(t);
      if (!numbers) return {error: "没有在百度地图链接中找到坐标（location=纬度,经度）"};
      const typed = (param(t, "coord_type") || "bd09ll").toLowerCase();
      const system = typed.startsWith("gcj") ? "gcj02" : (typed.startsWith("wgs") ? "wgs84" : "bd09");
      return Object.assign(fromPair(numbers[0], numbers[1]), {source: system, from: "百度地图链接"});
    }
    if (lower.includes("amap.com") || lower.includes("gaode.com")) {
      const position = param(t, "position") || param(t, "p") || param(t, "q");
      const numbers = position ? pair(position) : pair(t);
      if (!numbers) return {error: "没有在高德地图链接中找到坐标（position=经度,纬度）"};
      return Object.assign(fromPair(numbers[0], numbers[1]), {source: "gcj02", from: "高德地图链接"});
    }
    if (lower.includes("map.qq.com")) {
      const marker = param(t, "marker") || param(t, "coord") || "";
      const numbers = pair(marker.replace(/^.*coord:/i, "")) || pair(t);
      if (!numbers) return {error: "没有在腾讯地图链接中找到坐标（coord:纬度,经度）"};
      return Object.assign(fromPair(numbers[0], numbers[1]), {source: "gcj02", from: "腾讯地图链接"});
    }
    if (lower.startsWith("geo:")) {  // RFC 5870: geo:lat,lng is WGS-84
      const numbers = pair(t.slice(4));
      if (!numbers) return {error: "geo: 链接中没有坐标"};
      return {lat: numbers[0], lng: numbers[1], swapped: false, source: "wgs84", from: "geo: 链接"};
    }
    const dms = fromDms(t);
    if (dms) return Object.assign(dms, {swapped: false, source, from: "度分秒坐标"});
    const numbers = pair(t.replace(/[北南]纬|[东西]经|(?<=\d)\s*[NSEW]\b|\b[NSEW](?=\s*\d)/gi, " "));
    if (!numbers) return {error: "没有识别出坐标：请粘贴“纬度,经度”（如 39.9042,116.4074）或地图应用分享的链接"};
    return Object.assign(fromPair(numbers[0], numbers[1]), {source, from: "坐标"});
  }

  function round6(value) { return Math.round(value * 1e6) / 1e6; }

  // The point in GCJ-02, rounded to 6 decimals (about 0.1 m), with what was done in words.
  function parse(text, source) {
    const found = read(text, source || "gcj02");
    if (found.error) return found;
    if (!isFinite(found.lat) || !isFinite(found.lng)) return {error: "坐标不是有效的数字"};
    let lat = found.lat, lng = found.lng;
    const steps = ["识别为" + found.from + "，" + SOURCES[found.source]];
    if (found.swapped) steps.push("已按“经度,纬度”的顺序读取");
    const convert = window.coordtransform;
    if (found.source === "bd09" && convert) { [lng, lat] = convert.bd09togcj02(lng, lat); steps.push("已由百度坐标换算为 GCJ-02"); }
    if (found.source === "wgs84" && convert) { [lng, lat] = convert.wgs84togcj02(lng, lat); steps.push("已由 WGS-84 换算为 GCJ-02"); }
    const result = {lat: round6(lat), lng: round6(lng), note: steps.join("；"), warning: ""};
    if (!inChina(result.lat, result.lng)) result.warning = "该坐标不在中国境内，请核对是否填反或粘贴有误";
    return result;
  }

  // Great-circle distance in metres (both points in the same system).
  function metres(lat1, lng1, lat2, lng2) {
    const rad = Math.PI / 180, dLat = (lat2 - lat1) * rad, dLng = (lng2 - lng1) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  // An Alpine.js piece for a form whose coordinates live in `this[target].latitude/longitude`.
  function mixin(target) {
    return {
      pasteText: "", pasteSource: "gcj02", pickNote: "", pickWarning: "", pickError: "",
      sources: Object.entries(SOURCES).map(([value, label]) => ({value, label})),
      applyPaste() {
        const form = this[target], before = [Number(form.latitude), Number(form.longitude)];
        const result = parse(this.pasteText, this.pasteSource);
        this.pickNote = ""; this.pickWarning = "";
        if (result.error) { this.pickError = result.error; return; }
        this.pickError = "";
        form.latitude = String(result.lat); form.longitude = String(result.lng);
        let note = result.note + "：纬度 " + result.lat + "，经度 " + result.lng;
        if (isFinite(before[0]) && isFinite(before[1]) && (before[0] || before[1])) {
          note += "（与原坐标相距约 " + Math.round(metres(before[0], before[1], result.lat, result.lng)) + " 米）";
        }
        this.pickNote = note;
        this.pickWarning = result.warning;
      },
      // Look before saving: the point on 高德 (GCJ-02), opened by the person's browser in a new tab.
      mapLink() {
        const form = this[target], lat = Number(form.latitude), lng = Number(form.longitude);
        if (!String(form.latitude).trim() || !isFinite(lat) || !isFinite(lng)) return "";
        return "https://uri.amap.com/marker?position=" + lng + "," + lat + "&coordinate=gaode&callnative=0";
      },
    };
  }

  // What the form sends: empty -> null (the API's both-or-neither rule applies), a number as a
  // number, anything else as typed so the API's refusal says what is wrong with it.
  function coordinate(value) {
    const typed = String(value === null || value === undefined ? "" : value).trim();
    if (!typed) return null;
    return /^[-+]?\d+(\.\d+)?$/.test(typed) ? Number(typed) : typed;
  }

  return {parse, metres, mixin, coordinate, SOURCES};
})();
