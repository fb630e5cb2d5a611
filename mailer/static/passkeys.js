// Passkeys (mailer/accounts/second_factors/passkey_views.py): adding one on the Sign-in security page,
// using one as the second step of signing in, and signing in with one alone.
//
// Each place is an element marked data-passkey="register", "second-factor" or
// "sign-in", naming the address that hands out options (data-options-url), the one that
// checks the browser's answer (data-url) and the CSRF token (data-csrf). Options and
// answers are JSON, binary values in base64url. The controls stay hidden (and a
// sentence says why) where the browser cannot use passkeys or scripts are off; the
// rest of the page works without them.
(function () {
  "use strict";

  var CANCELLED = {
    register: "Your browser did not create the passkey: it was cancelled, or it took too long. Try again when you are ready.",
    "second-factor": "No passkey was used: it was cancelled, or it took too long. Try again, or use another way below.",
    "sign-in": "No passkey was used: it was cancelled, or it took too long. Try again, or sign in with your password."
  };
  var UNAVAILABLE = "This browser cannot use passkeys. Use another browser, or another way to sign in.";
  var OFFLINE = "The server could not be reached. Check your connection and try again.";
  var ALREADY = "This device already holds a passkey for your account: it is in the list above.";
  var REFUSED_HERE = "Your browser would not use a passkey on this address.";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = window.atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var out = { type: item.type, id: toBytes(item.id) };
      if (item.transports) {
        out.transports = item.transports;
      }
      return out;
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function registrationJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  function assertionJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: toText(response.userHandle)
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  // A refusal the server put in words, or a general one.
  function ServerSaid(message) {
    this.message = message;
  }

  function post(place, url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": place.getAttribute("data-csrf")
      },
      body: JSON.stringify(body)
    }).catch(function () {
      throw new ServerSaid(OFFLINE);
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        if (!response.ok) {
          throw new ServerSaid(data.error ||
            "That did not work (the page may be out of date). Reload the page and try again.");
        }
        return data;
      });
    });
  }

  function words(error, kind) {
    if (error instanceof ServerSaid) {
      return error.message;
    }
    if (error && error.name === "NotAllowedError") {
      return CANCELLED[kind];
    }
    if (error && error.name === "InvalidStateError" && kind === "register") {
      return ALREADY;
    }
    if (error && error.name === "SecurityError") {
      return REFUSED_HERE;
    }
    return "Something went wrong with the passkey. Try again.";
  }

  function show(place, message) {
    var box = place.querySelector("[data-passkey-error]");
    if (!box) {
      return;
    }
    box.textContent = message;
    box.hidden = !message;
  }

  // Follow the server's answer. Back to this same page (to its #section) only moves
  // the view within the page, so that reloads it, to show what changed.
  function go(address) {
    var target = new URL(address, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      here.hash = target.hash;
      here.reload();
      return;
    }
    here.assign(target.href);
  }

  function run(place, kind, button, extra) {
    show(place, "");
    button.disabled = true;
    var optionsUrl = place.getAttribute("data-options-url");
    return post(place, optionsUrl, {}).then(function (options) {
      if (kind === "register") {
        return navigator.credentials.create({ publicKey: creationOptions(options) })
          .then(registrationJSON);
      }
      return navigator.credentials.get({ publicKey: requestOptions(options) })
        .then(assertionJSON);
    }).then(function (credential) {
      var body = { credential: credential };
      if (extra) {
        Object.keys(extra).forEach(function (key) {
          body[key] = extra[key];
        });
      }
      return post(place, place.getAttribute("data-url"), body);
    }).then(function (done) {
      go(done.redirect);
    }).catch(function (error) {
      show(place, words(error, kind));
      button.disabled = false;
    });
  }

  function setUp(place) {
    var kind = place.getAttribute("data-passkey");
    var form = place.matches("[data-passkey-form]") ? place : place.querySelector("[data-passkey-form]");
    var note = place.querySelector("[data-passkey-unavailable]");
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
      if (note) {
        note.textContent = UNAVAILABLE;
      }
      return;
    }
    // Passkeys belong to the site's name: opened under another (the demo's 127.0.0.1),
    // the browser would refuse them, so say where they work.
    var site = place.getAttribute("data-site") || "";
    var host = window.location.hostname;
    if (site && host !== site && host.slice(-(site.length + 1)) !== "." + site) {
      if (note) {
        // The address comes from the server's base_url (the page's own scheme and port
        // are wrong behind an https proxy); a long one wraps rather than widen a phone.
        // A loopback base_url gives none: localhost on this page's port is this server.
        var address = place.getAttribute("data-address");
        if (!address) {
          var port = window.location.port ? ":" + window.location.port : "";
          address = "http://" + site + port;
        }
        note.textContent = "Passkeys work here only at " + address.replace(/\/+$/, "") +
          window.location.pathname + ": open the page at that address to use one.";
        note.classList.add("break-anywhere");
      }
      return;
    }
    if (note) {
      note.hidden = true;
    }
    form.hidden = false;
    if (kind === "register") {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        run(place, kind, button, { name: form.querySelector("input[name=name]").value });
      });
      return;
    }
    var start = place.querySelector("[data-passkey-start]");
    start.addEventListener("click", function () {
      run(place, kind, start, null);
    });
  }

  function ready() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey]"), setUp);
    // Removing a passkey asks first.
    document.addEventListener("submit", function (event) {
      var question = event.target.getAttribute && event.target.getAttribute("data-passkey-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());
