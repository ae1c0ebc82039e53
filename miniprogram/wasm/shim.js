// Copied by scripts/build-miniprogram.js from scripts/miniprogram/wasm-shim.js. Do not edit here.
// What wasm-bindgen's glue expects from a browser, built from what a WeChat mini program has.
//
// The mini program runtime has `WXWebAssembly` instead of `WebAssembly`, and it instantiates a
// module only from a path inside the code package (never from bytes). Real devices have no
// `TextEncoder` or `TextDecoder`, which the glue uses for every string. This file supplies all
// three to the glue, which `require`s it as its only import.
//
// Pass the glue a `WasmPath` rather than a string: the glue `fetch`es strings, and there is no
// fetch here.
'use strict';

/** A path inside the code package, e.g. '/wasm/wxlogin_core_bg.wasm.br'. */
function WasmPath(path) {
  this.path = path;
}

function host() {
  // Looked up on each call, not at load, so a test can install a fake after requiring this.
  if (typeof WXWebAssembly === 'undefined') {
    throw new Error('WXWebAssembly is not available (base library 2.13.0 or newer is needed)');
  }
  return WXWebAssembly; // eslint-disable-line no-undef
}

// The glue asks `result instanceof WebAssembly.Instance`; WXWebAssembly's own result is never
// passed on unwrapped, so these only need to be constructors.
function Instance() {}
function Module() {}

const WebAssembly = {
  Instance,
  Module,
  instantiate(source, imports) {
    if (!(source instanceof WasmPath)) {
      return Promise.reject(new TypeError('only a WasmPath can be instantiated in a mini program'));
    }
    // The docs say this resolves to an Instance; real runtimes give { instance, module }.
    return host()
      .instantiate(source.path, imports)
      .then((result) => (result && result.instance ? result : { instance: result, module: undefined }));
  },
};

const REPLACEMENT = 0xfffd;

/** UTF-8 encoding, as the WHATWG TextEncoder does it (lone surrogates become U+FFFD). */
function TextEncoder() {}
TextEncoder.prototype.encoding = 'utf-8';
TextEncoder.prototype.encode = function encode(input) {
  const text = input === undefined ? '' : String(input);
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) code = REPLACEMENT;
    if (code < 0x80) {
      bytes.push(code);
    } else if (code < 0x800) {
      bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    } else {
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 0x3f),
        0x80 | ((code >> 6) & 0x3f),
        0x80 | (code & 0x3f),
      );
    }
  }
  return new Uint8Array(bytes);
};

/**
 * UTF-8 decoding as the WHATWG TextDecoder does it: each maximal invalid subsequence becomes one
 * U+FFFD. Options are accepted and ignored.
 */
function TextDecoder() {}
TextDecoder.prototype.encoding = 'utf-8';
TextDecoder.prototype.decode = function decode(input) {
  if (input === undefined) return '';
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input.buffer || input);
  const units = [];
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i++];
    let code = first;
    if (first >= 0x80) {
      let needed = 0;
      // The second byte's range is narrower for a few lead bytes: that is what rules out
      // overlong forms, surrogates and code points past U+10FFFF.
      let lower = 0x80;
      let upper = 0xbf;
      if (first >= 0xc2 && first <= 0xdf) {
        needed = 1;
        code = first & 0x1f;
      } else if (first >= 0xe0 && first <= 0xef) {
        needed = 2;
        code = first & 0x0f;
        if (first === 0xe0) lower = 0xa0;
        if (first === 0xed) upper = 0x9f;
      } else if (first >= 0xf0 && first <= 0xf4) {
        needed = 3;
        code = first & 0x07;
        if (first === 0xf0) lower = 0x90;
        if (first === 0xf4) upper = 0x8f;
      }
      let complete = needed > 0;
      for (let n = 0; n < needed; n++) {
        const next = bytes[i];
        if (i >= bytes.length || next < lower || next > upper) {
          // The offending byte is not consumed: it may start the next character.
          complete = false;
          break;
        }
        code = (code << 6) | (next & 0x3f);
        lower = 0x80;
        upper = 0xbf;
        i++;
      }
      if (!complete) code = REPLACEMENT;
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else {
      units.push(code);
    }
    // Flush in chunks: fromCharCode.apply has an argument limit.
    if (units.length >= 4096) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode.apply(null, units);
};

module.exports = { WebAssembly, TextEncoder, TextDecoder, WasmPath };
