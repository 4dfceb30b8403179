/*
 * mlmcourse-rise-widgets: ipywidgets in jupyterlab-rise slides.
 *
 * Why: jupyterlab-rise 0.43.1 presents a notebook in its own small JupyterLab app (the page
 * /rise/<notebook>, shown by "Render as Reveal Slideshow", Alt+R). That app shares JupyterLab
 * 4.3's packages with the extensions it loads, but not @jupyterlab/console. The ipywidgets
 * manager (@jupyter-widgets/jupyterlab-manager, from jupyterlab_widgets 3.0.11 on, so every
 * ipywidgets >= 8.1.3) imports its IConsoleTracker token from @jupyterlab/console to show widgets
 * in code consoles too; without that shared module it fails to load ("Shared module
 * @jupyterlab/console doesn't exist in shared scope default") and every widget on a slide shows
 * as its text, e.g. IntSlider(value=3). (jupyterlab-contrib/rise issues 119 and 126.)
 *
 * What: this is a hand-written module-federation container, loaded like any prebuilt JupyterLab
 * extension. When the page's shared scope has no @jupyterlab/console, it adds one whose only
 * export is an IConsoleTracker token that no plugin provides: the widget manager loads, takes
 * the (optional) console tracker as absent, and renders widgets in the slides. Where the
 * shared scope already has @jupyterlab/console (JupyterLab itself, or a fixed RISE app) it does
 * nothing. It provides no plugins and no modules of its own.
 *
 * Remove it when jupyterlab-rise's app shares @jupyterlab/console (tests/tools/test_lab_browser.py
 * checks the widgets on a slide either way).
 */
(function () {
  'use strict';
  var NAME = 'mlmcourse-rise-widgets';
  var KEY = '@jupyterlab/console';
  var standIn = {
    IConsoleTracker: {
      name: KEY + ':IConsoleTracker',
      description: 'Stand-in from ' + NAME + ': this app has no code consoles.'
    }
  };
  var container = {
    addedStandIn: false, // what init did on this page (tests/tools/test_lab_browser.py reads it)
    init: function (shareScope) {
      if (shareScope && !Object.prototype.hasOwnProperty.call(shareScope, KEY)) {
        container.addedStandIn = true;
        shareScope[KEY] = {
          '0.0.0': {
            get: function () {
              return Promise.resolve(function () {
                return standIn;
              });
            },
            from: NAME,
            eager: false
          }
        };
        console.info(NAME + ': this page shares no ' + KEY + '; added a stand-in so ipywidgets load');
      }
    },
    get: function (module) {
      return Promise.reject(new Error(NAME + ' has no module ' + module));
    }
  };
  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = container;
})();
