/* auditctl report: sorting, filtering, timelines and players. Every string
 * from the log reaches the page through textContent, never as markup. */
(function () {
	"use strict";
	var data = JSON.parse(document.getElementById("report-data").textContent);
	var table = document.getElementById("sessions-table");
	var tbody = table.querySelector(".tbody");
	var rows = Array.prototype.slice.call(tbody.querySelectorAll(".tr"));
	var chunks = Array.prototype.slice.call(tbody.querySelectorAll(".chunk"));
	var perChunk = chunks.length ? chunks[0].children.length : 1;
	var players = {};
	var SVG = "http://www.w3.org/2000/svg";

	function el(tag, text, cls) {
		var e = document.createElement(tag);
		if (text !== undefined && text !== null) e.textContent = String(text);
		if (cls) e.className = cls;
		return e;
	}
	function dur(s) {
		if (s === null || s === undefined) return "-";
		var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
		    m = Math.floor(s % 3600 / 60), x = s % 60, o = "";
		if (d) o += d + "d";
		if (h) o += h + "h";
		if (m) o += m + "m";
		if (x || !o) o += x + "s";
		return o;
	}

	/* TTL evidence: the ttl-evidence --json object, flattened. */
	(function evidence() {
		var t = document.getElementById("evidence-table");
		function walk(prefix, v) {
			if (v !== null && typeof v === "object" && !Array.isArray(v)) {
				Object.keys(v).forEach(function (k) {
					walk(prefix ? prefix + "." + k : k, v[k]);
				});
				return;
			}
			if (Array.isArray(v)) {
				v = v.map(function (x) { return JSON.stringify(x); }).join(" ");
			} else if (typeof v === "number" && /_s(\.|$)/.test(prefix) &&
			    !/sessions$/.test(prefix)) {
				v = dur(v) + " (" + v + " s)";
			}
			var tr = t.insertRow();
			tr.appendChild(el("td", prefix));
			tr.appendChild(el("td", v === null ? "-" : v));
		}
		if (data.evidence) {
			walk("", data.evidence);
			if (data.evidence.evidence)
				document.getElementById("statement").textContent =
				    "Evidence " + data.evidence.evidence.statement + ".";
		}
		else t.insertRow().appendChild(el("td", "ttl-evidence gave no figures"));
	})();

	/* Sorting: numbers by data-v, text by content; stable. */
	var sortCol = -1, sortDir = 1;
	var heads = table.querySelectorAll(".thead .th");
	Array.prototype.forEach.call(heads, function (th, i) {
		th.addEventListener("click", function () {
			var num = th.getAttribute("data-type") === "num";
			sortDir = sortCol === i ? -sortDir : 1;
			sortCol = i;
			Array.prototype.forEach.call(heads, function (c) {
				c.classList.remove("asc", "desc");
			});
			th.classList.add(sortDir > 0 ? "asc" : "desc");
			var keyed = rows.map(function (r, n) {
				var c = r.children[i], v = num ? c.getAttribute("data-v") : c.textContent;
				if (num) v = v === "" || v === null ? -Infinity : Number(v);
				return { r: r, v: v, n: n };
			});
			keyed.sort(function (a, b) {
				var c = num ? a.v - b.v : a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
				return c * sortDir || a.n - b.n;
			});
			/* The rows go back into the chunks in their new order. */
			keyed.forEach(function (k, n) {
				chunks[Math.floor(n / perChunk)].appendChild(k.r);
			});
		});
	});

	/* Filtering: every word must appear in the row; and the state. */
	var filter = document.getElementById("filter");
	var state = document.getElementById("state");
	var shown = document.getElementById("shown");
	var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
	function applyFilter() {
		var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
		var st = state.value, n = 0;
		rows.forEach(function (r, i) {
			var ok = (!st || r.getAttribute("data-s") === st) && words.every(function (w) {
				return texts[i].indexOf(w) >= 0;
			});
			r.hidden = !ok;
			if (ok) n++;
		});
		shown.textContent = n + " of " + rows.length + " sessions shown";
	}
	filter.addEventListener("input", applyFilter);
	state.addEventListener("change", applyFilter);
	applyFilter();

	function castText(k) {
		var b = document.getElementById("cast-" + k);
		if (!b) return null;
		var bin = atob(b.textContent), u = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
		return new TextDecoder("utf-8").decode(u);
	}

	/* A session's timeline: a bar over its life, one tick per event. */
	function timeline(s) {
		var W = 900, H = 46, L = 10, R = 10;
		var t0 = s.t0 !== null ? s.t0 : s.ev.length ? s.ev[0][1] : 0;
		var span = Math.max(s.dur * 1000, s.ttl ? s.ttl * 1000 : 0, 1);
		s.ev.forEach(function (e) { span = Math.max(span, e[1] - t0); });
		function x(ms) { return L + (W - L - R) * Math.max(0, ms - t0) / span; }
		var svg = document.createElementNS(SVG, "svg");
		svg.setAttribute("viewBox", "0 0 " + W + " " + H);
		svg.setAttribute("width", W);
		svg.setAttribute("height", H);
		svg.setAttribute("class", "timeline");
		function add(tag, attrs, text) {
			var e = document.createElementNS(SVG, tag);
			Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
			if (text !== undefined) e.textContent = text;
			svg.appendChild(e);
			return e;
		}
		add("rect", { "class": "span", x: L, y: 8, width: x(t0 + s.dur * 1000) - L, height: 16 });
		if (s.ttl) add("line", { "class": "ttl", x1: x(t0 + s.ttl * 1000), y1: 4,
		    x2: x(t0 + s.ttl * 1000), y2: 28 });
		s.ev.forEach(function (e) {
			var l = add("line", { "class": "ev " + e[2], x1: x(e[1]), y1: 6, x2: x(e[1]), y2: 26 });
			var t = document.createElementNS(SVG, "title");
			t.textContent = e[0] + " " + e[2] + (e[3] ? " " + e[3] : "");
			l.appendChild(t);
		});
		add("text", { x: L, y: 40 }, "0");
		add("text", { x: W - R, y: 40, "text-anchor": "end" }, dur(Math.round(span / 1000)) +
		    (s.ttl ? " (dashed: TTL " + dur(s.ttl) + ")" : ""));
		return svg;
	}

	function open(i) {
		var s = data.sessions[i], d = document.getElementById("detail");
		rows.forEach(function (r) { r.classList.remove("sel"); });
		if (rows[i]) rows[i].classList.add("sel");
		Object.keys(players).forEach(function (k) {
			try { players[k].dispose(); } catch (e) { /* gone already */ }
			delete players[k];
		});
		d.textContent = "";
		var close = el("button", "close", "close");
		close.type = "button";
		close.addEventListener("click", function () { d.hidden = true; });
		d.appendChild(close);
		d.appendChild(el("h2", "Session " + s.id + (s.label !== null ? " \u2014 " + s.label : "")));
		d.appendChild(timeline(s));
		var t = el("table"), t0 = s.t0;
		s.ev.forEach(function (e) {
			var tr = t.insertRow();
			tr.appendChild(el("td", e[0]));
			tr.appendChild(el("td", t0 !== null ? "+" + dur(Math.max(0, Math.round((e[1] - t0) / 1000))) : ""));
			tr.appendChild(el("td", e[2]));
			tr.appendChild(el("td", e[3]));
		});
		d.appendChild(t);
		s.ev.forEach(function (e) {
			if (e[4] === null) return;
			var c = data.casts[e[4]], box = el("div", null, "cast");
			box.appendChild(el("h3", "Recording " + c.name));
			d.appendChild(box);
			if (!c.embedded) {
				box.appendChild(el("p", c.note || "not embedded", "note"));
				return;
			}
			var host = el("div");
			box.appendChild(host);
			players[e[4]] = AsciinemaPlayer.create({ data: castText(e[4]) }, host,
			    { fit: "width", idleTimeLimit: 2, controls: true });
		});
		d.hidden = false;
		d.scrollIntoView({ block: "nearest" });
	}
	tbody.addEventListener("click", function (ev) {
		var b = ev.target.closest("button.open");
		if (b) open(Number(b.getAttribute("data-i")));
	});
	/* For scripted review and the tests: open a session, reach its players. */
	window.agentdReport = { open: open, players: players, data: data };
})();
