// Signing in on the GraphiQL page. The bar above GraphiQL signs in with a username and
// password at the OAuth2 token endpoint (`POST /auth/token`, grant_type=password), keeps
// the tokens for this tab only (sessionStorage: gone when the tab closes, never shared with
// other tabs), renews the access token there (grant_type=refresh_token) before it expires
// and ends the session by revoking the refresh token (`POST /auth/revoke`). No GraphQL
// document of its own, so it works whatever OPSGRAPH_TRUSTED_DOCUMENTS lets run.
// explorer.js asks `headers()` for the Authorization header of every request GraphiQL sends.
(function () {
  "use strict";

  var STORE = "opsgraph.signIn";
  // renew this long before the access token expires, or after half its lifetime if shorter
  var RENEW_MARGIN_MS = 60 * 1000;
  // after a network failure or a 5xx, renewing is tried again this much later
  var RETRY_MS = 15 * 1000;

  var bar = document.getElementById("signin");
  var form = bar.querySelector(".signin-form");
  var userBox = bar.querySelector(".signin-user");
  var usernameText = bar.querySelector(".signin-username");
  var signOutButton = bar.querySelector(".signout");
  var message = bar.querySelector(".signin-message");
  // same-origin paths (with the root path the server runs under)
  var tokenEndpoint = bar.getAttribute("data-token-endpoint") || "/auth/token";
  var revokeEndpoint = bar.getAttribute("data-revoke-endpoint") || "/auth/revoke";

  // {accessToken, refreshToken, expiresAt, renewAt, username}; times in ms of this clock
  var session = load();
  var renewTimer = null;
  var renewing = null; // the renewal in flight
  var listeners = [];

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE) || "null");
      return saved && saved.accessToken && saved.refreshToken ? saved : null;
    } catch (error) {
      return null;
    }
  }

  function save() {
    try {
      if (session) {
        window.sessionStorage.setItem(STORE, JSON.stringify(session));
      } else {
        window.sessionStorage.removeItem(STORE);
      }
    } catch (error) {
      // storage refused (a private window's quota, say): the tokens live in this page only
    }
  }

  function say(text, isError) {
    message.textContent = text || "";
    message.classList.toggle("signin-error", !!isError);
  }

  function show() {
    bar.setAttribute("data-state", session ? "signed-in" : "signed-out");
    form.hidden = !!session;
    userBox.hidden = !session;
    usernameText.textContent = session ? session.username : "";
  }

  function busy(on) {
    var buttons = bar.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = on;
    }
  }

  // One form POST of the bar's own (RFC 6749 and RFC 7009 take forms); resolves to
  // {response, body, sentAt} (body null when the answer was no JSON, as /auth/revoke's empty
  // 200 is), rejects only when the server could not be reached.
  function post(url, fields) {
    var sentAt = Date.now();
    return window
      .fetch(url, {
        method: "POST",
        headers: { accept: "application/json" },
        body: new URLSearchParams(fields), // sent as application/x-www-form-urlencoded
        credentials: "same-origin",
        cache: "no-store",
      })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { response: response, body: body, sentAt: sentAt };
          },
          function () {
            return { response: response, body: null, sentAt: sentAt };
          },
        );
      });
  }

  // The tokens of a token endpoint answer, or null.
  function tokensOf(answer) {
    var body = answer.body;
    return answer.response.ok && body && body.access_token && body.refresh_token ? body : null;
  }

  // A message of the server as a sentence: a capital first, a full stop last.
  function sentence(text) {
    var words = String(text || "").trim().replace(/\.?$/, ".");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // Why a request of the bar got no tokens (or did not revoke), as one sentence: the
  // server's error_description (too_many_attempts says how long to wait), else the status.
  function problem(answer) {
    var body = answer.body;
    if (body && body.error_description) {
      return sentence(body.error_description);
    }
    return "The server answered HTTP " + answer.response.status + ".";
  }

  // When to renew: RENEW_MARGIN_MS before the expiry, or after half the lifetime when that
  // is shorter. The server gives the lifetime (expires_in, seconds), not a time, so a wrong
  // clock here does not matter: it is counted on this clock from when the request was sent,
  // before the token was issued.
  function timesOf(answer) {
    var left = Math.max(Number(answer.body.expires_in) * 1000, 0) || 0;
    var from = answer.sentAt;
    return { expiresAt: from + left, renewAt: from + left - Math.min(RENEW_MARGIN_MS, left / 2) };
  }

  function schedule(delay) {
    window.clearTimeout(renewTimer);
    renewTimer = null;
    if (session) {
      var wait = delay === undefined ? session.renewAt - Date.now() : delay;
      renewTimer = window.setTimeout(renew, Math.max(wait, 0));
    }
  }

  function changed() {
    for (var i = 0; i < listeners.length; i++) {
      listeners[i]();
    }
  }

  // The token endpoint names no user: the bar keeps the username typed at sign-in.
  function accept(answer, username) {
    var tokens = answer.body;
    var times = timesOf(answer);
    var wasSignedIn = !!session;
    session = {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: times.expiresAt,
      renewAt: times.renewAt,
      username: username,
    };
    save();
    show();
    schedule();
    if (!wasSignedIn) {
      changed();
    }
  }

  function forget(text, isError) {
    var wasSignedIn = !!session;
    session = null;
    save();
    schedule();
    show();
    say(text, isError);
    if (wasSignedIn) {
      changed();
    }
  }

  // Spend the refresh token for new tokens; resolves when done (signed in or out).
  function renew() {
    if (!session) {
      return Promise.resolve();
    }
    if (renewing) {
      return renewing;
    }
    var current = session;
    renewing = post(tokenEndpoint, {
      grant_type: "refresh_token",
      refresh_token: current.refreshToken,
    })
      .then(
        function (answer) {
          if (session !== current) {
            return; // signed out (or in again) meanwhile
          }
          if (tokensOf(answer)) {
            accept(answer, current.username);
            say("");
          } else if (answer.response.status >= 500 && Date.now() < current.expiresAt) {
            // 503 temporarily_unavailable, say: the refresh token is still good
            say("Could not renew the sign-in: " + problem(answer) + " Retrying.", true);
            schedule(RETRY_MS);
          } else {
            forget("Your sign-in has ended; sign in again.", true);
          }
        },
        function () {
          if (session !== current) {
            return;
          }
          if (Date.now() < current.expiresAt) {
            say("Could not reach the server to renew the sign-in; retrying.", true);
            schedule(RETRY_MS);
          } else {
            forget("Your sign-in has ended: the server could not be reached. Sign in again.", true);
          }
        },
      )
      .then(function () {
        renewing = null;
      });
    return renewing;
  }

  // The token is due: renew first (a sleeping laptop or a throttled background tab may
  // have held the timer back).
  function fresh() {
    return session && Date.now() >= session.renewAt ? renew() : Promise.resolve();
  }

  function hasAuthorization(headers) {
    return Object.keys(headers).some(function (name) {
      return name.toLowerCase() === "authorization";
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault(); // the page's CSP (form-action 'none') forbids a real submit
    var username = form.elements.username.value.trim();
    var password = form.elements.password.value;
    if (!username || !password) {
      say("Enter a username and a password.", true);
      return;
    }
    busy(true);
    say("Signing in…");
    post(tokenEndpoint, { grant_type: "password", username: username, password: password })
      .then(
        function (answer) {
          if (tokensOf(answer)) {
            form.reset();
            accept(answer, username);
            say("");
          } else {
            form.elements.password.value = "";
            var wrong = answer.body && answer.body.error === "invalid_grant";
            say(wrong ? "Wrong username or password." : problem(answer), true);
          }
        },
        function () {
          say("Could not reach the server; try again.", true);
        },
      )
      .then(function () {
        busy(false);
      });
  });

  // Revoking the refresh token ends the whole session on the server, its access tokens
  // included; a renewal in flight is let finish first, so the newest refresh token goes.
  signOutButton.addEventListener("click", function () {
    busy(true);
    say("Signing out…");
    (renewing || Promise.resolve())
      .then(function () {
        if (!session) {
          return null;
        }
        var fields = { token: session.refreshToken, token_type_hint: "refresh_token" };
        return post(revokeEndpoint, fields).then(
          function (answer) {
            return answer.response.ok ? null : problem(answer);
          },
          function () {
            return "The server could not be reached.";
          },
        );
      })
      .then(function (failure) {
        forget(
          failure
            ? "Signed out in this tab, but the server did not end the session: " +
                failure +
                " Its tokens stay valid until they expire."
            : "Signed out.",
          !!failure,
        );
        busy(false);
      });
  });

  show();
  if (session) {
    schedule(); // at once when the token fell due while the tab was away
  }

  window.OpsgraphSignIn = {
    // The headers GraphiQL typed (its Headers tab), with this tab's access token added
    // unless they carry an Authorization of their own.
    headers: function (given) {
      var headers = Object.assign({}, given || {});
      if (!session || hasAuthorization(headers)) {
        return Promise.resolve(headers);
      }
      return fresh().then(function () {
        if (session) {
          headers.Authorization = "Bearer " + session.accessToken;
        }
        return headers;
      });
    },
    // Called when someone signs in or out (not when the token is renewed).
    onChange: function (listener) {
      listeners.push(listener);
    },
  };
})();
