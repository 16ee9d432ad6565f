/* Bring a page's answer into view (every page, from base.html).
 *
 * A form that comes back with errors, or a page whose answer is drawn below the form (a
 * claim's estimate), would otherwise open at its top: on a phone the answer is screens away and
 * the page looks as if nothing happened. The element marked `data-focus-on-load` (the errors'
 * summary, an estimate), else the first field in error, is scrolled into view and focused, so
 * a screen reader reads it too. Without JavaScript the summary is still at the top of the form.
 */
(function () {
  "use strict";

  function target() {
    return (
      document.querySelector("[data-focus-on-load]") ||
      document.querySelector("main .is-invalid, main .invalid-feedback")
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = target();
    if (!element) {
      return;
    }
    var closed = element.closest("details:not([open])");
    if (closed) {
      closed.open = true;
    }
    if (!element.hasAttribute("tabindex") && !element.matches("input, select, textarea")) {
      element.setAttribute("tabindex", "-1");
    }
    // At once: Bootstrap makes scrolling smooth, which would glide down a long page.
    element.scrollIntoView({ block: "start", behavior: "instant" });
    element.focus({ preventScroll: true });
  });
})();

/* A filing form lists no hospitals until the place is chosen (not the whole country's), and
 * the page sent after lists only that place's. Choosing the place here fetches the form for it
 * (`?place=…&part=hospitals`) and puts its hospital fields in place of these, at once; a choice
 * that carries another place's pooling region is hidden meanwhile
 * (filings.forms.HospitalCheckboxes, HospitalSelect). Without JavaScript the form sent back
 * lists them.
 */
(function () {
  "use strict";

  var FIELDS = ["hospitals", "receiving_hospital", "hospital"];

  function showPlace(form, region) {
    form.querySelectorAll("[data-region]").forEach(function (choice) {
      var hidden = Boolean(region) && choice.getAttribute("data-region") !== region;
      if (choice.tagName === "OPTION") {
        choice.hidden = hidden;
      } else {
        var row = choice.closest(".form-check") || choice;
        row.hidden = hidden;
      }
    });
  }

  function fetchHospitals(form, select) {
    var region = select.value;
    if (!region || !window.fetch || !window.DOMParser) {
      return;
    }
    if (!FIELDS.some(function (name) { return form.querySelector("#div_id_" + name); })) {
      return;
    }
    if (form.querySelector('[data-region="' + region + '"]')) {
      return; // this place's hospitals are listed already (a form sent back, a draft's)
    }
    var url = window.location.pathname + "?place=" + encodeURIComponent(region) +
      "&part=hospitals";
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        if (select.value !== region) {
          return; // chosen again meanwhile: that answer follows
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        FIELDS.forEach(function (name) {
          var mine = form.querySelector("#div_id_" + name);
          var theirs = page.getElementById("div_id_" + name);
          if (mine && theirs) {
            mine.replaceWith(document.importNode(theirs, true));
          }
        });
      })
      .catch(function () {
        // (not fetched: the form sent back lists the place's hospitals)
      });
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[name=place_region]")) {
      return;
    }
    showPlace(select.form, select.value);
    fetchHospitals(select.form, select);
  });
})();


/* Switching the language reloads the page from the server: what was typed into a form of the
 * page and not sent is lost. Once something has been typed, the switch asks first (its
 * question is the switcher's `data-confirm-if-typed`, in the page's language).
 */
(function () {
  "use strict";

  var typed = false;
  function noteTyping(event) {
    if (event.target.closest && event.target.closest("main form")) {
      typed = true;
    }
  }
  document.addEventListener("input", noteTyping);
  document.addEventListener("change", noteTyping);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "language-switcher") {
      typed = false; // the form is being sent: nothing typed is left behind
      return;
    }
    var question = form.getAttribute("data-confirm-if-typed");
    if (typed && question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();


/* A PDF being prepared (filings/document_pending.html): ask again every few seconds, without
 * reloading the page (a screen reader would start again from the top). When it is ready the
 * download starts and the status region says so; past the time given, it says it is taking
 * longer than usual. Without JavaScript the page's "Check again" link does the same by hand.
 */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var status = document.getElementById("document-waiting");
    if (!status) {
      return;
    }
    var url = status.getAttribute("data-poll");
    var every = Number(status.getAttribute("data-poll-every")) * 1000;
    var until = Number(status.getAttribute("data-poll-until")) * 1000;

    function say(text) {
      status.textContent = text;
    }

    function ask() {
      if (Date.now() >= until) {
        say(status.getAttribute("data-late"));
        return;
      }
      fetch(url, { method: "HEAD", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 200) {
            say(status.getAttribute("data-ready"));
            window.location.href = url;
          } else if (response.status === 202) {
            window.setTimeout(ask, every);
          } else if (response.status === 503) {
            window.location.href = url;  // the render failed: the page that says so
          } else {
            say(status.getAttribute("data-late"));
          }
        })
        .catch(function () {
          say(status.getAttribute("data-late"));
        });
    }

    window.setTimeout(ask, every);
  });
})();


/* The desk check's verdict (hospitals/eligibility_check.html), spoken: the ID field keeps the
 * focus for the next card, so the verdict is copied into a status region once the page is up
 * (a region filled before it would not be announced).
 */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("verdict-live");
    var verdict = document.querySelector("[data-verdict]");
    if (live && verdict) {
      window.setTimeout(function () {
        live.textContent = verdict.textContent.replace(/^[✔✘]\s*/, "");
      }, 300);
    }
  });
})();


/* A second click on a form's button while the first is on its way (a double click, an impatient
 * tap on a slow phone) is not sent again: it would file the same thing twice. The form's submit
 * buttons are disabled once it is sent, so the phone shows that it is on its way. A form sent more
 * than a few seconds ago can be sent again (a download that does not leave the page). The server
 * answers a new filing's form sent twice anyway (filings.views._SentOnce).
 */
(function () {
  "use strict";

  var AGAIN_AFTER_MS = 4000;

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.type === "submit";
    });
  }

  function release(form) {
    form.removeAttribute("data-sent-at");
    submitButtons(form).forEach(function (button) {
      if (button.hasAttribute("data-sending")) {
        button.removeAttribute("data-sending");
        button.disabled = false;
      }
    });
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (event.defaultPrevented) {
        return; // not sent (the language switch's question answered "no")
      }
      var sent = Number(form.getAttribute("data-sent-at") || 0);
      if (sent && Date.now() - sent < AGAIN_AFTER_MS) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent-at", String(Date.now()));
      // Not before the browser has taken what the form sends: a disabled button's name and
      // value (the "draft" of "Save as draft") would be left out.
      window.setTimeout(function () {
        submitButtons(form).forEach(function (button) {
          if (!button.disabled) {
            button.setAttribute("data-sending", "");
            button.disabled = true;
          }
        });
      }, 0);
      window.setTimeout(function () {
        release(form);
      }, AGAIN_AFTER_MS);
    },
    false
  );
  // Back to a page kept in the browser's memory: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent-at]").forEach(release);
  });
})();


/* Taking a file off a filing (filings/new.html) reloads the page at once: a tap by mistake
 * would lose what was typed. A form marked `data-confirm` asks first (the question is in the
 * page's language); one marked `data-keeps` keeps the values of the form it names (text,
 * choices, ticked boxes; not chosen files, which a page cannot set) in sessionStorage, and the
 * reloaded page puts them back. Listening in the capture phase, it answers before the
 * double-submit guard below looks at the event.
 */
(function () {
  "use strict";

  var KEY = "portal-kept:" + window.location.pathname;
  var SKIPPED = ["file", "hidden", "submit", "button", "password", "reset", "image"];

  function fieldsOf(form) {
    return Array.prototype.filter.call(
      form.querySelectorAll("input, select, textarea"),
      function (el) {
        return el.name && SKIPPED.indexOf(el.type) === -1 && !el.disabled;
      }
    );
  }

  function keep(form) {
    var values = fieldsOf(form).map(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        return [el.name, el.value, el.checked];
      }
      if (el.tagName === "SELECT" && el.multiple) {
        return [el.name, Array.prototype.map.call(el.selectedOptions, function (o) {
          return o.value;
        })];
      }
      return [el.name, el.value];
    });
    try {
      window.sessionStorage.setItem(
        KEY, JSON.stringify({ form: form.id, at: Date.now(), values: values })
      );
    } catch (e) {
      // (storage refused: the page reloads as before)
    }
  }

  function restore() {
    var kept;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(KEY) || "null");
      window.sessionStorage.removeItem(KEY);
    } catch (e) {
      return;
    }
    // Only the reload that follows (not a visit much later, after a refused removal).
    var form = kept && Date.now() - kept.at < 60000 && document.getElementById(kept.form);
    if (!form) {
      return;
    }
    var fields = fieldsOf(form);
    kept.values.forEach(function (item) {
      fields.forEach(function (el) {
        if (el.name !== item[0]) {
          return;
        }
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === item[1]) {
            el.checked = item[2];
          }
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) {
            o.selected = item[1].indexOf(o.value) !== -1;
          });
        } else {
          el.value = item[1];
        }
      });
    });
    fields.forEach(function (el) {
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (!question) {
        return;
      }
      if (!window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var kept = document.getElementById(form.getAttribute("data-keeps") || "");
      if (kept) {
        keep(kept);
      }
    },
    true
  );
  document.addEventListener("DOMContentLoaded", restore);
})();

/* Nothing typed is lost to a quiet session (every page, from base.html).
 *
 * A signed-in session ends after a spell without requests (`data-idle-seconds`: 30 minutes for
 * a person, 15 for staff; SessionTimeoutMiddleware), and a form sent after that is lost. On a
 * page with a form being filled in, typing counts as activity: at most every third of the
 * spell (5 minutes at most) while the user types, the page tells the server (`data-keep-alive`,
 * a POST). A page left quiet warns before the end (the spell's fifth, 5 minutes at most) with a
 * button that keeps the session; once it has ended the page says what it can no longer send.
 */
(function () {
  "use strict";

  var FIELDS =
    "main form[method=post] input:not([type=hidden]), main form[method=post] textarea, " +
    "main form[method=post] select";

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10) * 1000;
    var url = body.getAttribute("data-keep-alive");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!idle || !url || !token || !document.querySelector(FIELDS)) {
      return;
    }
    var lead = Math.min(300000, idle / 5);
    var refresh = Math.min(300000, idle / 3);
    var seen = Date.now();
    var shown = null;
    var over = false;

    function show(id) {
      if (shown && shown.id === id + "-shown") {
        return;
      }
      hide();
      var template = document.getElementById(id);
      if (!template) {
        return;
      }
      shown = template.content.firstElementChild.cloneNode(true);
      shown.id = id + "-shown";
      shown.setAttribute("role", "alert"); // said when shown (in the template it is no alert)
      document.body.appendChild(shown);
      var button = shown.querySelector("[data-keep-alive-button]");
      if (button) {
        button.addEventListener("click", ping);
        button.focus();
      }
    }

    function hide() {
      if (shown) {
        shown.remove();
        shown = null;
      }
    }

    function ended() {
      over = true;
      show("idle-ended");
    }

    function ping() {
      seen = Date.now();
      hide();
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": token.value },
      }).then(
        function (response) {
          if (response.status !== 204) {
            ended();
          }
        },
        function () {} // offline for a moment: the next activity or the warning tries again
      );
    }

    ["input", "keydown", "pointerdown", "change"].forEach(function (type) {
      document.addEventListener(
        type,
        function () {
          if (!over && Date.now() - seen >= refresh) {
            ping();
          }
        },
        true
      );
    });

    window.setInterval(function () {
      if (over) {
        return;
      }
      var left = idle - (Date.now() - seen);
      if (left <= 0) {
        ended();
      } else if (left <= lead) {
        show("idle-warning");
      }
    }, 1000);
  });
})();

/*
 * Proof files checked as soon as they are chosen (filings.forms.upload_attrs): a file larger
 * than the upload limit, or not a JPEG, PNG or PDF (a phone's HEIC photo), is set aside at once
 * with the reason under the field, instead of being sent over a phone's connection only to be
 * refused. The other files chosen with it stay chosen. The server checks every file again.
 */
(function () {
  "use strict";

  var TYPES = ["image/jpeg", "image/png", "application/pdf"];
  var EXTENSIONS = /\.(jpe?g|png|pdf)$/i;

  function refusal(input, file) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var known = file.type ? TYPES.indexOf(file.type) !== -1 : EXTENSIONS.test(file.name);
    if (!known) {
      return input.getAttribute("data-wrong-type");
    }
    if (max && file.size > max) {
      return input.getAttribute("data-too-big");
    }
    return null;
  }

  function noteFor(input) {
    var id = input.id + "-set-aside";
    var note = document.getElementById(id);
    if (!note) {
      note = document.createElement("div");
      note.id = id;
      note.className = "invalid-feedback d-block";
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
      var described = (input.getAttribute("aria-describedby") || "").split(" ");
      if (described.indexOf(id) === -1) {
        input.setAttribute("aria-describedby", described.concat([id]).join(" ").trim());
      }
    }
    return note;
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) {
      return;
    }
    var kept = [];
    var said = [];
    Array.prototype.forEach.call(input.files || [], function (file) {
      var reason = refusal(input, file);
      if (reason) {
        said.push(reason.replace("%(name)s", file.name));
      } else {
        kept.push(file);
      }
    });
    var note = noteFor(input);
    note.textContent = said.join(" ");
    note.hidden = !said.length;
    if (!said.length) {
      return;
    }
    try {
      var transfer = new DataTransfer();
      kept.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    } catch (e) {
      input.value = ""; // (a browser without DataTransfer: choose the good ones again)
    }
  });
})();
