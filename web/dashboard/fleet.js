// The fleet view, when the page is served by scn-fleet (docs/PROTOCOL.md
// 12.6): the ground station publishes its table on the /live stream
// "fleet" once a second and each drone's messages on "<id>.<stream>".
// Opened as /?drone=ID the page shows that drone as it would be shown by
// its own companion; the fleet table (one row per drone, each a link to
// its view) appears as soon as a "fleet" message arrives, and never on a
// companion, which publishes none.

const ID = /^[A-Za-z0-9_-]{1,63}$/;

// The drone chosen with ?drone=ID, or null.
export function chosenDrone() {
  const id = new URLSearchParams(window.location.search).get("drone");
  return id && ID.test(id) ? id : null;
}

// The page's stream names for a drone of the fleet: the companion's
// "uav.state" is the fleet's "state".
const PAGE_STREAM = { olfaction: "olfaction", state: "uav.state",
  inference: "inference", events: "events" };

// The /live streams to subscribe to: the companion's names, or a drone's
// and the fleet table.
export function fleetStreams(companionStreams, drone) {
  if (!drone) return [...companionStreams, "fleet"];
  return [...Object.keys(PAGE_STREAM).map((s) => drone + "." + s), "fleet"];
}

// A fleet stream name as the page knows it ("d1.state" -> "uav.state"),
// or null when it is not the chosen drone's.
export function pageStream(stream, drone) {
  if (!drone || !stream.startsWith(drone + ".")) return drone ? null : stream;
  return PAGE_STREAM[stream.slice(drone.length + 1)] || null;
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

function fixed(v, d) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "–";
}

// Draws the table of a "fleet" message into section#fleet.
export function drawFleet(data, drone) {
  const section = document.getElementById("fleet");
  const body = document.getElementById("fleet-rows");
  if (!section || !body || !data || !Array.isArray(data.drones)) return;
  section.hidden = false;
  document.getElementById("fleet-broker").textContent =
    typeof data.broker === "string" ? data.broker : "–";
  const rows = [...data.drones].filter((d) => d && typeof d.id === "string"
    && ID.test(d.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
  body.replaceChildren(...rows.map((d) => {
    const tr = document.createElement("tr");
    if (d.id === drone) tr.className = "chosen";
    const th = document.createElement("th");
    th.scope = "row";
    const a = document.createElement("a");
    a.href = "?drone=" + encodeURIComponent(d.id);
    a.textContent = d.id;
    th.appendChild(a);
    tr.appendChild(th);
    cell(tr, d.online === true ? "yes" : d.online === false ? "NO" : "?",
      d.online === false ? "bad" : "");
    cell(tr, typeof d.battery === "number" ? fixed(d.battery, 0) + " %" : "–", "n");
    cell(tr, typeof d.h === "number"
      ? `${fixed(d.x, 1)}, ${fixed(d.y, 1)}, ${fixed(d.h, 1)} m` : "–", "n");
    cell(tr, typeof d.inference === "string"
      ? `${d.inference} ${fixed(d.score, 2)}` : "–");
    cell(tr, typeof d.age_ms === "number" ? fixed(d.age_ms / 1000, 1) + " s" : "–", "n");
    cell(tr, typeof d.gaps === "number" ? String(d.gaps) : "–", "n");
    return tr;
  }));
}
