// The page-side `assert` of the SDK suite's test page (the original loads umd-assert from a
// CDN): node's assert functions the suite calls inside `page.evaluate`, throwing an
// AssertionError-like Error on failure.
(function () {
  function fail(message, actual, expected, operator) {
    var err = new Error(
      message || JSON.stringify(actual) + " " + operator + " " + JSON.stringify(expected)
    );
    err.name = "AssertionError";
    err.actual = actual;
    err.expected = expected;
    err.operator = operator;
    throw err;
  }
  function deep(a, b, strict) {
    if (strict ? Object.is(a, b) : a == b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (var i = 0; i < ka.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !deep(a[ka[i]], b[ka[i]], strict)) return false;
    }
    return true;
  }
  function assert(value, message) {
    if (!value) fail(message, value, true, "==");
  }
  assert.ok = assert;
  assert.equal = function (a, b, m) { if (a != b) fail(m, a, b, "=="); };
  assert.notEqual = function (a, b, m) { if (a == b) fail(m, a, b, "!="); };
  assert.strictEqual = function (a, b, m) { if (!Object.is(a, b)) fail(m, a, b, "==="); };
  assert.notStrictEqual = function (a, b, m) { if (Object.is(a, b)) fail(m, a, b, "!=="); };
  assert.deepEqual = function (a, b, m) { if (!deep(a, b, false)) fail(m, a, b, "deepEqual"); };
  assert.notDeepEqual = function (a, b, m) { if (deep(a, b, false)) fail(m, a, b, "notDeepEqual"); };
  assert.deepStrictEqual = function (a, b, m) { if (!deep(a, b, true)) fail(m, a, b, "deepStrictEqual"); };
  assert.notDeepStrictEqual = function (a, b, m) { if (deep(a, b, true)) fail(m, a, b, "notDeepStrictEqual"); };
  assert.throws = function (fn, m) {
    try { fn(); } catch (e) { return; }
    fail(typeof m === "string" ? m : "Missing expected exception.", undefined, undefined, "throws");
  };
  assert.doesNotThrow = function (fn) { fn(); };
  assert.rejects = async function (p, m) {
    try { await (typeof p === "function" ? p() : p); } catch (e) { return; }
    fail(typeof m === "string" ? m : "Missing expected rejection.", undefined, undefined, "rejects");
  };
  assert.strict = assert;
  window.assert = assert;
})();
