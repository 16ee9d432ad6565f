'use strict';
// The review queues need the screen's width: on a screen under 1600 pixels wide the admin's
// navigation sidebar starts folded (the » button opens it), until the reviewer opens or folds it
// themselves, which Django's nav_sidebar.js remembers. Runs before that deferred script.
(function () {
    const key = 'django.admin.navSidebarIsOpen';
    try {
        if (localStorage.getItem(key) === null && window.innerWidth < 1600) {
            localStorage.setItem(key, 'false');
        }
    } catch (e) {
        // Storage refused (a private window): Django's default, the sidebar open.
    }
})();
