/* A full resident ID number typed into an admin changelist's search box is posted, never put
   in the URL: the server keeps its keyed hash in the session and shows the changelist for a
   token (portal/admin.py, IdNumberSearch). On a list whose search can find persons
   (data-private-terms on the form), so is any term that is not a plain number-like code: a
   name, in Chinese characters or letters. Codes (filing, claim, settlement numbers, hospital
   codes) are searched as usual. */
(function () {
  "use strict";
  var FULL_ID = /^\d{17}[\dX]$/;
  /* As the server tells a code (portal/admin.py, is_code_term). */
  var CODE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

  function isCode(value) {
    var term = value.normalize("NFKC").trim();
    return term === "" || (CODE.test(term) && /\d/.test(term));
  }

  function keptOut(form, value) {
    if (value.charAt(0) === "#") return false;
    if (FULL_ID.test(normalized(value))) return true;
    return form.hasAttribute("data-private-terms") && !isCode(value);
  }

  /* As the server reads it (portal/lib/idnumbers.normalize): an input method's full-width
     digits and letters as ASCII (NFKC), without spaces or invisible format characters, in upper
     case; so "232701 19560312 0223" and "２３２７…" are posted too, not put in the URL. */
  function normalized(value) {
    return value
      .normalize("NFKC")
      .replace(/[\s\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, "")
      .toUpperCase();
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var search = document.getElementById("changelist-search");
    var box = document.getElementById("searchbar");
    if (!search || !box) return;
    search.addEventListener("submit", function (event) {
      if (!keptOut(search, box.value)) return;
      event.preventDefault();
      var post = document.createElement("form");
      post.method = "post";
      post.action = window.location.pathname;
      hidden(post, "csrfmiddlewaretoken", csrfToken());
      hidden(post, "_id_search", "1");
      hidden(post, "q", box.value);
      hidden(post, "_changelist_query", window.location.search.replace(/^\?/, ""));
      document.body.appendChild(post);
      box.value = "";
      post.submit();
    });
  });
})();
