// Passkeys on the sign-in and security pages. Each form marked data-passkey="get" (sign in) or
// "create" (add a passkey) stays hidden without this script or without WebAuthn; with them it is
// shown, and its button asks the server for the ceremony's options (a POST carrying the form's
// CSRF token to data-options), runs navigator.credentials, puts the answer into the form's
// hidden `handle` and `credential` fields and submits the form: the server verifies it.

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function withIds(list) {
  return (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

function creationOptions(json) {
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

function requestOptions(json) {
  const options = { ...json, challenge: fromBase64url(json.challenge) };
  if (json.allowCredentials) options.allowCredentials = withIds(json.allowCredentials);
  return options;
}

function common(credential) {
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
}

function registrationJSON(credential) {
  const r = credential.response;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : [],
    },
  };
}

function assertionJSON(credential) {
  const r = credential.response;
  return {
    ...common(credential),
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      authenticatorData: toBase64url(r.authenticatorData),
      signature: toBase64url(r.signature),
      userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined,
    },
  };
}

function statusOf(form) {
  let next = form.nextElementSibling;
  while (next && !next.hasAttribute("data-passkey-status")) next = next.nextElementSibling;
  return next;
}

async function ceremony(form, button) {
  const kind = form.dataset.passkey;
  const status = statusOf(form);
  const say = (text) => { if (status) status.textContent = text; };
  button.disabled = true;
  say(kind === "create" ? "Follow your browser's prompt to make the passkey…" : "Follow your browser's prompt…");
  try {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value });
    const answer = await fetch(form.dataset.options, { method: "POST", body, credentials: "same-origin",
                                                        headers: { Accept: "application/json" } });
    if (!answer.ok) {
      say(answer.status === 429 ? "Too many attempts: wait a while, then try again." : "The server refused to start: reload the page.");
      return;
    }
    const { handle, options } = await answer.json();
    const parsed = JSON.parse(options);
    const credential = kind === "create"
      ? await navigator.credentials.create({ publicKey: creationOptions(parsed) })
      : await navigator.credentials.get({ publicKey: requestOptions(parsed) });
    form.elements.handle.value = handle;
    form.elements.credential.value = JSON.stringify(kind === "create" ? registrationJSON(credential) : assertionJSON(credential));
    say("Checking…");
    form.submit();
  } catch (error) {
    say(error && error.name === "NotAllowedError" ? "The passkey prompt was closed or timed out: try again." :
        `The passkey did not work here (${error && error.name ? error.name : "error"}).`);
  } finally {
    button.disabled = false;
  }
}

function start() {
  if (!window.PublicKeyCredential || !navigator.credentials) return;  // the forms stay hidden
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const button = form.querySelector("[data-passkey-start]");
    if (!button) continue;
    form.hidden = false;
    button.addEventListener("click", () => ceremony(form, button));
    form.addEventListener("submit", (event) => {  // Enter in the name field starts the ceremony too
      if (!form.elements.credential.value) { event.preventDefault(); ceremony(form, button); }
    });
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
