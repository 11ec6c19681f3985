// Every page: a table or chart wider than the screen scrolls sideways in its box; such a box
// is made reachable by keyboard and named after its section, so it can be scrolled without a mouse.
(function () {
  "use strict";
  function label(box) {
    const section = box.closest("section, main");
    const heading = section && section.querySelector("h1, h2");
    return heading ? heading.textContent.trim() : document.title;
  }
  function mark() {
    // Cards holding a wide chart scroll the same way.
    document.querySelectorAll(".card > svg").forEach((svg) => svg.parentElement.classList.add("scroll-x"));
    document.querySelectorAll(".table-wrap, .chart, .scroll-x").forEach((box) => {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label(box));
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  mark();

  // Pages that follow live numbers (the dashboard) reload themselves, with a switch to pause:
  // someone reading slowly, or with a screen reader, must be able to stop the page moving.
  document.querySelectorAll("[data-refresh-seconds]").forEach((el) => {
    const seconds = parseInt(el.dataset.refreshSeconds, 10);
    const key = "quizapp:refresh-paused";
    const toggle = document.createElement("label");
    toggle.className = "refresh-toggle";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = sessionStorage.getItem(key) !== "1";
    toggle.append(input, " " + el.dataset.refreshLabel);
    el.after(toggle);
    let timer = null;
    function arm() {
      clearTimeout(timer);
      if (input.checked) timer = setTimeout(() => window.location.reload(), seconds * 1000);
    }
    input.addEventListener("change", () => { sessionStorage.setItem(key, input.checked ? "0" : "1"); arm(); });
    arm();
  });

  let pending = null;
  window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(mark, 150); });
})();
