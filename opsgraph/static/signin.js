// Signing in on the GraphiQL page. The bar above GraphiQL runs the `login` mutation with a
// username and password, keeps the tokens for this tab only (sessionStorage: gone when the
// tab closes, never shared with other tabs), renews the access token with `tokenRefresh`
// before it expires and ends the session with `logout`. explorer.js asks `headers()` for
// the Authorization header of every request GraphiQL sends.
(function () {
  "use strict";

  var STORE = "opsgraph.signIn";
  // renew this long before the access token expires, or after half its lifetime if shorter
  var RENEW_MARGIN_MS = 60 * 1000;
  // after a network failure or a 5xx, renewing is tried again this much later
  var RETRY_MS = 15 * 1000;
  var ACCEPT = "application/graphql-response+json, application/json";

  var SIGNED_IN =
    "tokens { accessToken accessTokenExpiresAt refreshToken } user { username } " +
    "errors { code message }";
  var LOGIN =
    "mutation GraphiQLSignIn($input: LoginInput!) { login(input: $input) { " + SIGNED_IN + " } }";
  var REFRESH =
    "mutation GraphiQLRenewSignIn($input: TokenRefreshInput!) { tokenRefresh(input: $input) { " +
    SIGNED_IN +
    " } }";
  var LOGOUT = "mutation GraphiQLSignOut { logout { ok errors { code message } } }";

  var bar = document.getElementById("signin");
  var form = bar.querySelector(".signin-form");
  var userBox = bar.querySelector(".signin-user");
  var usernameText = bar.querySelector(".signin-username");
  var signOutButton = bar.querySelector(".signout");
  var message = bar.querySelector(".signin-message");
  var endpoint =
    document.getElementById("graphiql").getAttribute("data-endpoint") || window.location.pathname;

  // {accessToken, refreshToken, expiresAt, renewAt, username}; times in ms of this clock
  var session = load();
  var renewTimer = null;
  var renewing = null; // the tokenRefresh in flight
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

  // One GraphQL request of the bar's own; resolves to {response, body} (body null when the
  // answer was no JSON), rejects only when the server could not be reached.
  function post(query, variables, accessToken) {
    var headers = { "content-type": "application/json", accept: ACCEPT };
    if (accessToken) {
      headers.authorization = "Bearer " + accessToken;
    }
    return window
      .fetch(endpoint, {
        method: "POST",
        headers: headers,
        body: JSON.stringify({ query: query, variables: variables || {} }),
        credentials: "same-origin",
        cache: "no-store",
      })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { response: response, body: body };
          },
          function () {
            return { response: response, body: null };
          },
        );
      });
  }

  // A message of the server as a sentence: a capital first, a full stop last.
  function sentence(text) {
    var words = String(text || "").trim().replace(/\.?$/, ".");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // Why a request of the bar got no tokens (or no logout), as one sentence.
  function problem(answer, payload) {
    var errors = (payload && payload.errors) || [];
    if (errors.length) {
      var error = errors[0];
      if (error.code === "INVALID_CREDENTIALS") {
        return "Wrong username or password.";
      }
      // the rest as the server words them; TOO_MANY_ATTEMPTS says how long to wait
      return sentence(error.message);
    }
    var body = answer.body;
    if (body && body.errors && body.errors.length) {
      return sentence(body.errors[0].message);
    }
    return "The server answered HTTP " + answer.response.status + ".";
  }

  // When to renew: RENEW_MARGIN_MS before the expiry the server gave, or after half the
  // lifetime when that is shorter. The lifetime is measured on the server's clock (its
  // Date header) so that a wrong clock here does not matter.
  function timesOf(expiresAt, response) {
    var now = Date.now();
    var serverNow = Date.parse(response.headers.get("date") || "");
    if (isNaN(serverNow)) {
      serverNow = now;
    }
    var left = Math.max(Date.parse(expiresAt) - serverNow, 0) || 0;
    return { expiresAt: now + left, renewAt: now + left - Math.min(RENEW_MARGIN_MS, left / 2) };
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

  function accept(payload, response) {
    var times = timesOf(payload.tokens.accessTokenExpiresAt, response);
    var wasSignedIn = !!session;
    session = {
      accessToken: payload.tokens.accessToken,
      refreshToken: payload.tokens.refreshToken,
      expiresAt: times.expiresAt,
      renewAt: times.renewAt,
      username: payload.user ? payload.user.username : session && session.username,
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
    renewing = post(REFRESH, { input: { refreshToken: current.refreshToken } })
      .then(
        function (answer) {
          if (session !== current) {
            return; // signed out (or in again) meanwhile
          }
          var payload = answer.body && answer.body.data && answer.body.data.tokenRefresh;
          if (payload && payload.tokens) {
            accept(payload, answer.response);
            say("");
          } else if (answer.response.status >= 500 && Date.now() < current.expiresAt) {
            say("Could not renew the sign-in: " + problem(answer, payload) + " Retrying.", true);
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
    post(LOGIN, { input: { username: username, password: password } })
      .then(
        function (answer) {
          var payload = answer.body && answer.body.data && answer.body.data.login;
          if (payload && payload.tokens) {
            form.reset();
            accept(payload, answer.response);
            say("");
          } else {
            form.elements.password.value = "";
            say(problem(answer, payload), true);
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

  signOutButton.addEventListener("click", function () {
    busy(true);
    say("Signing out…");
    fresh()
      .then(function () {
        if (!session) {
          return null;
        }
        return post(LOGOUT, {}, session.accessToken).then(
          function (answer) {
            var payload = answer.body && answer.body.data && answer.body.data.logout;
            return payload && payload.ok ? null : problem(answer, payload);
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
