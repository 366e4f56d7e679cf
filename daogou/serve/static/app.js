"use strict";
// The chat page. Every product or model text is put on the page with textContent, never as HTML.
(() => {
  const T = {
    en: { store: "Shopping guide", signed_in_as: "Signed in as", guest: "Guest", placeholder: "What are you looking for? e.g. red running shoes under 300",
          send: "Send", details: "Details", add_to_cart: "Add to cart", added: "Added to your cart: ", hello: "Hi! I can find products, compare them and explain my picks. What are you looking for?",
          ordinal: (n) => ["the first one", "the second one", "the third one", "the fourth one", "the fifth one", "the sixth one"][n] || `number ${n + 1}`,
          failed: "Sorry, something went wrong: ", likes: "likes", out_of_stock: " (out of stock)" },
    zh: { store: "导购助手", signed_in_as: "当前用户", guest: "游客", placeholder: "想买什么？例如：300元以内的红色跑鞋",
          send: "发送", details: "详情", add_to_cart: "加入购物车", added: "已加入购物车：", hello: "你好！我可以帮你找商品、做比较、解释推荐理由。你想买什么？",
          ordinal: (n) => `第${"一二三四五六七八九十"[n] || n + 1}个`,
          failed: "抱歉，出错了：", likes: "喜欢", out_of_stock: "（缺货）" },
  };
  const $ = (id) => document.getElementById(id);
  const state = { lang: "en", token: null, shopper: null, conversation: null, busy: false, queue: [] };

  function t(key) { return T[state.lang][key]; }

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("message").placeholder = t("placeholder");
    $("lang-en").classList.toggle("on", state.lang === "en");
    $("lang-zh").classList.toggle("on", state.lang === "zh");
    const guest = $("shopper").querySelector('option[value=""]');
    if (guest) guest.textContent = t("guest");
  }

  async function api(path, options = {}) {
    const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    const res = await fetch(path, Object.assign({}, options, { headers }));
    if (!res.ok) {
      let detail = res.statusText;
      try { detail = (await res.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return res;
  }

  async function signIn(shopperId) {
    const res = shopperId
      ? await api("/v1/auth/demo", { method: "POST", body: JSON.stringify({ shopper_id: shopperId }) })
      : await api("/v1/auth/guest", { method: "POST", body: "{}" });
    const body = await res.json();
    state.token = body.token; state.shopper = body.shopper_id; state.conversation = null;
    sessionStorage.setItem("daogou.token", body.token);
    sessionStorage.setItem("daogou.shopper", shopperId || "");
    $("log").replaceChildren();
    say("bot", t("hello"));
    setChips([]);
  }

  async function loadShoppers() {
    const select = $("shopper");
    const guest = document.createElement("option");
    guest.value = ""; guest.textContent = t("guest");
    select.append(guest);
    try {
      const res = await api("/v1/demo/shoppers");
      for (const s of (await res.json()).shoppers) {
        const o = document.createElement("option");
        const brands = Object.values(s.brands || {}).join(", ");
        o.value = s.id; o.textContent = `${s.id} · ${t("likes")} ${brands}`;
        select.append(o);
      }
    } catch (e) { /* not the demo: guests only */ }
  }

  function say(who, text) {
    const el = document.createElement("div");
    el.className = "msg " + who;
    el.textContent = text;
    $("log").append(el);
    el.scrollIntoView({ block: "end" });
    return el;
  }

  function renderCards(turn, cards) {
    if (!cards.length) return;
    const grid = document.createElement("div");
    grid.className = "cards";
    cards.forEach((c, i) => {
      const node = $("card-tpl").content.firstElementChild.cloneNode(true);
      node.dataset.id = c.id;
      node.querySelector(".title").textContent = c.title + (c.in_stock ? "" : t("out_of_stock"));
      node.querySelector(".brand-name").textContent = c.brand;
      node.querySelector(".price").textContent = c.price_text;
      const img = node.querySelector("img");
      if (c.image) { img.src = "/v1/products/" + encodeURIComponent(c.id) + "/image"; img.alt = c.title; }
      else img.remove();
      for (const why of c.why || []) {
        const li = document.createElement("li"); li.textContent = why; node.querySelector(".why").append(li);
      }
      if (!c.in_stock) node.classList.add("oos");
      node.querySelector(".more").textContent = t("details");
      node.querySelector(".cart").textContent = t("add_to_cart");
      node.querySelector(".more").addEventListener("click", () => send(t("ordinal")(i)));
      node.querySelector(".cart").addEventListener("click", () => addToCart(c));
      grid.append(node);
    });
    turn.append(grid);
  }

  async function addToCart(card) {
    try {
      await api("/v1/events", { method: "POST", body: JSON.stringify({ type: "cart", product_id: card.id, session_id: "web" }) });
      say("bot", t("added") + card.title);
    } catch (e) { say("err", t("failed") + e.message); }
  }

  function setChips(chips) {
    const box = $("chips");
    box.replaceChildren();
    for (const text of chips || []) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "chip"; b.textContent = text;
      b.addEventListener("click", () => send(text));
      box.append(b);
    }
  }

  async function send(message) {
    message = (message || "").trim();
    if (!message) return;
    if (state.busy) { state.queue.push(message); return; }  // typed during a reply: sent after it, never lost
    state.busy = true;
    say("me", message);
    const turn = document.createElement("div"); turn.className = "turn"; $("log").append(turn);
    const bubble = document.createElement("div"); bubble.className = "msg bot typing";
    let text = "";
    try {
      const res = await api("/v1/chat", { method: "POST", headers: { Accept: "text/event-stream" },
        // the reply follows the message's language; the page's language only speaks for a message with no words
        body: JSON.stringify({ message, conversation_id: state.conversation, stream: true,
                               ...(/[A-Za-z\u4e00-\u9fff]/.test(message) ? {} : { language: state.lang }) }) });
      await readEvents(res, (event, data) => {
        if (data.conversation_id) state.conversation = data.conversation_id;
        if (event === "cards") { turn.append(bubble); renderCards(turn, data.cards); setChips(data.chips); }
        else if (event === "delta") { text += data.text; bubble.textContent = text; }
        else if (event === "reset") { text = ""; bubble.textContent = ""; }
        else if (event === "done") { text = data.text; bubble.textContent = text; }
        else if (event === "error") { say("err", t("failed") + data.detail); }
        bubble.scrollIntoView({ block: "end" });
      });
    } catch (e) {
      say("err", t("failed") + e.message);
    } finally {
      bubble.classList.remove("typing");
      if (!text && bubble.parentNode) bubble.remove();
      turn.dataset.done = "1";
      state.busy = false; $("message").focus();
      if (state.queue.length) send(state.queue.shift());
    }
  }

  async function readEvents(res, onEvent) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        let event = "message"; const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  async function start() {
    state.lang = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
    const saved = sessionStorage.getItem("daogou.lang"); if (saved) state.lang = saved;
    applyLanguage();
    await loadShoppers();
    applyLanguage();
    $("lang-en").addEventListener("click", () => { state.lang = "en"; sessionStorage.setItem("daogou.lang", "en"); applyLanguage(); });
    $("lang-zh").addEventListener("click", () => { state.lang = "zh"; sessionStorage.setItem("daogou.lang", "zh"); applyLanguage(); });
    $("shopper").addEventListener("change", (e) => signIn(e.target.value).catch((err) => say("err", t("failed") + err.message)));
    $("ask").addEventListener("submit", (e) => { e.preventDefault(); const m = $("message").value; $("message").value = ""; send(m); });
    const prefer = sessionStorage.getItem("daogou.shopper") || "";
    if ([...$("shopper").options].some((o) => o.value === prefer)) $("shopper").value = prefer;
    await signIn($("shopper").value);
    document.body.dataset.ready = "1";
  }

  start().catch((e) => say("err", t("failed") + e.message));
})();
