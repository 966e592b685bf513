// Time series for the dashboard: a bounded history per series, decimated
// as it arrives, and a Canvas 2D chart that draws at most a few points
// per pixel column however fast the data comes.
//
// A series keeps fixed-width time buckets (BUCKET_MS) in a ring: each
// bucket holds the first, lowest, highest and last value that fell in
// it. At 100 Hz that is 5 samples a bucket; the ring's size bounds the
// history (CAPACITY buckets, 5 minutes) and the memory (about 200 KB a
// series) whatever the rate. Drawing merges the buckets that fall in one
// pixel column again, so a 5-minute window costs no more lines than a
// 30-second one, and spikes between pixels stay visible (min/max).

export const BUCKET_MS = 50;
export const CAPACITY = 6000; // 5 min of buckets
// Buckets further apart than this are drawn with a gap, not joined: a
// hole in the data shows as a hole.
const GAP_MS = 2000;

export class Series {
  // color: an index into the theme's palette.
  constructor(label, unit, color) {
    this.label = label;
    this.unit = unit;
    this.color = color;
    this.t = new Float64Array(CAPACITY); // bucket start, ms since the epoch
    this.first = new Float64Array(CAPACITY);
    this.min = new Float64Array(CAPACITY);
    this.max = new Float64Array(CAPACITY);
    this.last = new Float64Array(CAPACITY);
    this.head = 0; // next slot
    this.count = 0;
    this.latest = NaN;
    this.latestT = 0;
  }

  clear() {
    this.head = 0;
    this.count = 0;
  }

  // Physical slot of the k-th oldest bucket.
  slot(k) {
    return (this.head - this.count + k + CAPACITY) % CAPACITY;
  }

  push(t, v) {
    if (!Number.isFinite(v) || !Number.isFinite(t)) return;
    const b = t - (t % BUCKET_MS);
    this.latest = v;
    this.latestT = t;
    if (this.count > 0) {
      const i = (this.head - 1 + CAPACITY) % CAPACITY;
      const lastB = this.t[i];
      // Same bucket, or a little late (reordered): merged into the last.
      // A clock that jumped far back starts the history over.
      if (b <= lastB) {
        if (lastB - b > 60000) {
          this.clear();
        } else {
          if (v < this.min[i]) this.min[i] = v;
          if (v > this.max[i]) this.max[i] = v;
          this.last[i] = v;
          return;
        }
      }
    }
    const j = this.head;
    this.t[j] = b;
    this.first[j] = this.min[j] = this.max[j] = this.last[j] = v;
    this.head = (j + 1) % CAPACITY;
    if (this.count < CAPACITY) this.count++;
  }

  // Index (0 = oldest) of the first bucket at or after t.
  lowerBound(t) {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[this.slot(mid)] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // [lowest, highest] over buckets from t0 on, or null when none.
  range(t0) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = this.lowerBound(t0); k < this.count; k++) {
      const s = this.slot(k);
      if (this.min[s] < lo) lo = this.min[s];
      if (this.max[s] > hi) hi = this.max[s];
    }
    return lo <= hi ? [lo, hi] : null;
  }
}

// A step between ticks that gives about n ticks over span: 1, 2 or 5
// times a power of ten.
function niceStep(span, n) {
  const raw = span / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function fmtTick(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return v.toFixed(Math.min(digits, 6));
}

// A canvas that keeps its backing store at the element's size times the
// device pixel ratio, so lines stay sharp on a tablet.
export class Chart {
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.axes = opts.axes !== false;
    this.unit = opts.unit || "";
    this.minSpan = opts.minSpan || 1;
    this.w = 0;
    this.h = 0;
  }

  fit() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === 0 || h === 0) return false;
    if (w !== this.w || h !== this.h || this.dpr !== dpr) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this.w = w;
      this.h = h;
      this.dpr = dpr;
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return true;
  }

  // Draws the series over [now - windowMs, now]; colours from the
  // theme, each series' from colorOf(series).
  draw(series, now, windowMs, theme, colorOf) {
    if (!this.fit()) return;
    const ctx = this.ctx;
    const t0 = now - windowMs;
    ctx.fillStyle = theme.bg;
    ctx.fillRect(0, 0, this.w, this.h);

    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series) {
      const r = s.range(t0);
      if (r) {
        lo = Math.min(lo, r[0]);
        hi = Math.max(hi, r[1]);
      }
    }
    const left = this.axes ? 52 : 4;
    const right = this.w - 6;
    const top = 6;
    const bottom = this.h - (this.axes ? 20 : 4);
    if (right <= left || bottom <= top) return;
    if (lo > hi) {
      if (this.axes) this.drawTimeAxis(ctx, left, right, bottom, windowMs, theme);
      ctx.fillStyle = theme.muted;
      ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("no data yet", left + 8, (top + bottom) / 2);
      return;
    }
    // A flat line sits in the middle of a span of at least minSpan.
    if (hi - lo < this.minSpan) {
      const mid = (hi + lo) / 2;
      lo = mid - this.minSpan / 2;
      hi = mid + this.minSpan / 2;
    }
    const pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
    const sy = (bottom - top) / (hi - lo);
    const sx = (right - left) / windowMs;
    const Y = (v) => bottom - (v - lo) * sy;

    if (this.axes) {
      ctx.strokeStyle = theme.grid;
      ctx.fillStyle = theme.muted;
      ctx.lineWidth = 1;
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      const step = niceStep(hi - lo, Math.max(2, Math.floor((bottom - top) / 40)));
      ctx.beginPath();
      for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
        const y = Math.round(Y(v)) + 0.5;
        ctx.moveTo(left, y);
        ctx.lineTo(right, y);
        ctx.fillText(fmtTick(v, step), left - 6, y);
      }
      ctx.stroke();
      this.drawTimeAxis(ctx, left, right, bottom, windowMs, theme);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top - 2, right - left, bottom - top + 4);
    ctx.clip();
    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    for (const s of series) this.drawSeries(ctx, s, colorOf(s), t0, left, sx, Y);
    ctx.restore();
  }

  drawTimeAxis(ctx, left, right, bottom, windowMs, theme) {
    ctx.fillStyle = theme.muted;
    ctx.strokeStyle = theme.grid;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    const spanS = windowMs / 1000;
    const step = niceStep(spanS, Math.max(2, Math.floor((right - left) / 90)));
    ctx.beginPath();
    for (let s = 0; s <= spanS + 1e-9; s += step) {
      const x = Math.round(right - (s / spanS) * (right - left)) + 0.5;
      ctx.moveTo(x, bottom);
      ctx.lineTo(x, bottom + 4);
      ctx.textAlign = s === 0 ? "right" : "center";
      ctx.fillText(s === 0 ? "now" : "-" + fmtTick(s, step) + " s", x, bottom + 5);
    }
    ctx.stroke();
  }

  // One series, merged per pixel column: first, min, max, last of every
  // bucket in the column, so the envelope of fast data is kept.
  drawSeries(ctx, s, color, t0, left, sx, Y) {
    let k = s.lowerBound(t0);
    if (k > 0) k--; // the line enters from the left edge
    if (k >= s.count) return;
    ctx.strokeStyle = color;
    ctx.beginPath();
    let col = NaN;
    let cFirst = 0;
    let cMin = 0;
    let cMax = 0;
    let cLast = 0;
    let prevT = -Infinity;
    let pen = false; // whether the path has a current point
    const flush = () => {
      if (Number.isNaN(col)) return;
      if (pen) ctx.lineTo(col, Y(cFirst));
      else ctx.moveTo(col, Y(cFirst));
      if (cMin !== cMax) {
        ctx.lineTo(col, Y(cMin));
        ctx.lineTo(col, Y(cMax));
      }
      ctx.lineTo(col, Y(cLast));
      pen = true;
    };
    for (; k < s.count; k++) {
      const i = s.slot(k);
      const t = s.t[i];
      const x = Math.round(left + (t - t0) * sx);
      if (t - prevT > GAP_MS) {
        flush();
        col = NaN;
        pen = false;
      }
      prevT = t;
      if (x !== col) {
        flush();
        col = x;
        cFirst = s.first[i];
        cMin = s.min[i];
        cMax = s.max[i];
      } else {
        if (s.min[i] < cMin) cMin = s.min[i];
        if (s.max[i] > cMax) cMax = s.max[i];
      }
      cLast = s.last[i];
    }
    flush();
    ctx.stroke();
  }
}
