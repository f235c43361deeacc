// Projector check-in page: polls the state URL for the current code and the counts.
// The page's CSP runs no inline script: the state URL comes in a data attribute.
const stateUrl = document.querySelector("main").dataset.stateUrl;
const qr = document.getElementById("qr");
let timer = null;
async function refresh() {
  clearTimeout(timer);
  let next = 2000;
  try {
    const res = await fetch(stateUrl, {cache: "no-store"});
    const state = await res.json();
    if (!res.ok) { document.getElementById("status").textContent = state.message || "加载失败"; next = 5000; }
    else {
      if (qr.dataset.code !== state.code) { qr.innerHTML = state.svg; qr.dataset.code = state.code; qr.dataset.url = state.url; }
      for (const key of ["expected", "checked_in", "late", "on_leave"]) {
        document.getElementById(key).textContent = state.counts[key];
      }
      // Once closed, nobody is "not here yet": those without a check-in were recorded absent (缺勤).
      document.getElementById("missing_label").textContent = state.closed ? "缺勤" : "未到";
      document.getElementById("missing").textContent = state.closed ? state.counts.absent : state.counts.missing;
      document.body.classList.toggle("closed", state.closed);
      if (state.closed) document.getElementById("status").textContent = "本节课签到已结束";
      // Fetch again shortly before the code rotates, and at least every 3 s for the counts.
      next = Math.max(200, Math.min(3000, state.expires_in_ms - 1500));
    }
  } catch (e) { next = 3000; }
  timer = setTimeout(refresh, next);
}
refresh();
