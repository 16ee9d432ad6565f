/* A full resident ID number typed into an admin changelist's search box is posted, never put
   in the URL: the server keeps its keyed hash in the session and shows the changelist for a
   token (portal/admin.py, IdNumberSearch). Other searches go on as usual. */
(function () {
  "use strict";
  var FULL_ID = /^\s*\d{17}[\dXx]\s*$/;

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
      if (!FULL_ID.test(box.value)) return;
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
