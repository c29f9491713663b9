"""Two small things a page asks of the browser, as inline components (CCv2: they run in the
page, not in an iframe; what they are told travels as data, never as code).

- `scroll_to`: bring an element into view once (the next step of the questionnaire, the
  confirmation after submitting), as a rerun keeps the scroll position where it was.
- `commit_while_typing`: a text area in Streamlit sends its text only when it loses focus
  (or on Ctrl+Enter), so words typed before the tab is closed were lost. This commits the
  text areas inside one keyed container after a pause in typing, and at once when the page
  is hidden or closed, by pressing Ctrl+Enter for the rater (Streamlit's own commit key).
  Until a pause's commit has surely reached the app, the words are also kept in this
  browser's localStorage (under the box's widget key, which names the invitation), and put
  back and sent when the box shows again — the same browser only, as drafts are.
"""

from __future__ import annotations

import streamlit as st

_SCROLL = st.components.v2.component(
    "tandem_scroll_to",
    html="<span></span>",
    js="""
export default function ({ data }) {
  if (!data || !data.nonce || window.__tandemScrolled === data.nonce) return
  window.__tandemScrolled = data.nonce
  const go = (tries) => {
    const target = document.querySelector(data.selector)
    if (!target) {
      if (tries > 0) setTimeout(() => go(tries - 1), 50)
      return
    }
    target.scrollIntoView({ block: "start" })
    if (data.focus) {
      const focus = target.querySelector(data.focus)
      if (focus) {
        if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1")
        focus.focus({ preventScroll: true })
      }
    }
  }
  requestAnimationFrame(() => go(40))
}
""",
)

_COMMIT = st.components.v2.component(
    "tandem_commit_while_typing",
    html="<span></span>",
    js="""
export default function ({ data }) {
  if (!data || !data.scope) return
  window.__tandemCommit = window.__tandemCommit || {}
  if (window.__tandemCommit[data.scope]) return
  window.__tandemCommit[data.scope] = true
  const STORE = "tandem-typing:"
  let timer = null
  let typed = null
  const keyOf = (el) => {
    const box = el.closest("[class*='st-key-']")
    const name = box && [...box.classList].find((c) => c.startsWith("st-key-"))
    return name ? STORE + name : null
  }
  const keep = (el) => { const k = keyOf(el); if (k) localStorage.setItem(k, el.value) }
  const forget = (el) => { const k = keyOf(el); if (k) localStorage.removeItem(k) }
  const commit = (el, sure) => {
    if (!el || !el.isConnected) return
    el.dispatchEvent(new KeyboardEvent("keydown", {
      key: "Enter", code: "Enter", ctrlKey: true, bubbles: true, cancelable: true,
    }))
    // Kept in this browser until the app has surely had it (not when the page is going).
    if (sure) setTimeout(() => { if (el.isConnected && keyOf(el)) forget(el) }, 3000)
  }
  const flush = () => {
    if (timer === null) return
    clearTimeout(timer)
    timer = null
    commit(typed, false)
  }
  document.addEventListener("input", (event) => {
    const el = event.target
    if (!(el instanceof HTMLTextAreaElement) || !el.closest("." + data.scope)) return
    if (typed && typed !== el) flush()
    typed = el
    keep(el)
    clearTimeout(timer)
    timer = setTimeout(() => { timer = null; commit(el, true) }, data.pause_ms)
  }, true)
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush()
  })
  window.addEventListener("pagehide", flush)
  // Words that may not have reached the app before the page went (kept above) are put
  // back into their box when it shows again, and sent.
  const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set
  setInterval(() => {
    for (const el of document.querySelectorAll("." + data.scope + " textarea")) {
      const k = keyOf(el)
      const kept = k && localStorage.getItem(k)
      if (kept === null || kept === undefined || el === document.activeElement) continue
      if (el.value === kept) { forget(el); continue }
      setValue.call(el, kept)
      el.dispatchEvent(new Event("input", { bubbles: true }))
      commit(el, true)
    }
  }, 400)
}
""",
)


def scroll_to(selector: str, nonce: str, *, focus: str = "", key: str) -> None:
    """Scroll the first element matching `selector` to the top of the screen, once per
    `nonce`; with `focus`, move the keyboard's focus to the element it selects inside."""
    _SCROLL(data={"selector": selector, "nonce": nonce, "focus": focus}, key=key, height=0)


def commit_while_typing(container_key: str, *, pause_ms: int = 700, key: str) -> None:
    """Commit the text areas inside `st.container(key=container_key)` after `pause_ms` of
    no typing, and when the page is hidden or closed (each commit runs their on_change)."""
    _COMMIT(data={"scope": f"st-key-{container_key}", "pause_ms": pause_ms}, key=key, height=0)


_LANG = st.components.v2.component(
    "tandem_page_language",
    html="<span></span>",
    js="""
export default function ({ data }) {
  if (data && /^[a-z]{2}$/.test(data.lang || "")) document.documentElement.lang = data.lang
}
""",
)


def page_language(code: str, *, key: str) -> None:
    """Tell the browser (and so screen readers, WCAG 3.1.1) the page's language: "cy" for a
    page in Welsh, so it is read with Welsh pronunciation."""
    _LANG(data={"lang": code}, key=key, height=0)
