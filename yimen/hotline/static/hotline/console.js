/* The 12345 intake console: Ctrl+Enter in the form submits it, the chosen step shows its
   own fields (and any section with an error shows too), and the side panel's buttons fill
   the form (the article answered from, the lead unit, the master order). The lead unit
   follows the first dispatch suggestion until the agent chooses one; the answer follows the
   article picked until the agent edits it. A refusal of the panel (400) replaces its stale
   content. Without this script every section shows and the form still works. */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var lead = document.getElementById("id_lead");
  var answer = document.getElementById("id_answer");
  var article = document.getElementById("id_article");
  var articleTitle = document.getElementById("article-title");
  var master = document.getElementById("id_master");
  var leadChosen = !!(lead && lead.value);
  var PANELS = ["suggestions", "caller-history"];
  // The answer text last taken from an article: replaced by the next one picked (or cleared)
  // as long as the agent has not changed it.
  var inserted = "";

  function step() {
    var radio = form.querySelector('input[name="next_step"]:checked');
    return radio ? radio.value : "register";
  }

  function showStep() {
    var chosen = step();
    form.querySelectorAll("[data-step]").forEach(function (section) {
      var wrong = section.querySelector(".is-invalid, .invalid-feedback");
      section.hidden = section.getAttribute("data-step") !== chosen && !wrong;
    });
  }

  function choose(value) {
    var radio = form.querySelector('input[name="next_step"][value="' + value + '"]');
    if (radio) {
      radio.checked = true;
      showStep();
    }
  }

  function prefillLead() {
    if (!lead || leadChosen) return;
    var first = document.querySelector('#suggestions [data-use="unit"]');
    lead.value = first ? first.getAttribute("data-unit") : "";
  }

  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    }
  });

  form.addEventListener("change", function (event) {
    if (event.target.name === "next_step") showStep();
    if (event.target === lead) leadChosen = !!lead.value;
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use]");
    if (!button) return;
    var use = button.getAttribute("data-use");
    if (use === "article" && article) {
      article.value = button.getAttribute("data-article");
      if (articleTitle) articleTitle.textContent = button.getAttribute("data-title");
      if (answer && (!answer.value.trim() || answer.value === inserted)) {
        inserted = button.getAttribute("data-answer");
        answer.value = inserted;
      }
      choose("answer");
      if (answer) answer.focus();
    } else if (use === "unit" && lead) {
      lead.value = button.getAttribute("data-unit");
      leadChosen = true;
      choose("dispatch");
      lead.focus();
    } else if (use === "master" && master) {
      master.value = button.getAttribute("data-number");
      choose("link");
      master.focus();
    }
  });

  var clear = document.getElementById("article-clear");
  if (clear) {
    clear.addEventListener("click", function () {
      if (article) article.value = "";
      if (articleTitle) articleTitle.textContent = articleTitle.getAttribute("data-none");
      if (answer && inserted && answer.value === inserted) answer.value = "";
      inserted = "";
    });
  }

  // htmx leaves the panel as it was on an error answer: a refusal (400) is shown instead.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (event.detail.xhr.status === 400 && target && PANELS.indexOf(target.id) >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "suggestions") prefillLead();
  });

  showStep();
  prefillLead();
})();
