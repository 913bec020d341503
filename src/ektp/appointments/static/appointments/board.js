// The queue board: when a counter calls (or recalls) a number, chime and, if chosen, say it
// in Indonesian. Browsers allow sound only after a user gesture, so both are checkboxes on
// the board (remembered in this browser); ticking one is the gesture. Works offline: the
// chime is synthesised with WebAudio and the voice is the browser's own speech synthesis.
(function () {
  "use strict";
  var CHIME = "ektp.board.chime";
  var SPEECH = "ektp.board.speech";
  var audio = null;
  var seen = null;

  function stored(key) {
    try { return window.localStorage.getItem(key) === "1"; } catch (e) { return false; }
  }
  function store(key, on) {
    try { window.localStorage.setItem(key, on ? "1" : "0"); } catch (e) { /* not kept */ }
  }

  function chime() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    audio = audio || new Context();
    if (audio.state === "suspended") { audio.resume(); }
    // Two soft tones (E5 then C5), like a station bell.
    [[659.25, 0], [523.25, 0.35]].forEach(function (tone) {
      var start = audio.currentTime + tone[1];
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.65);
    });
  }

  // "B-007" → "B, 7": the letter, then the number as a number, not "nol nol tujuh".
  function spokenLabel(label) {
    var match = /^([A-Z])-?0*(\d+)$/.exec(label);
    return match ? match[1] + ", " + match[2] : label;
  }

  function announce(label, counter) {
    if (!("speechSynthesis" in window)) { return; }
    var text = "Nomor antrean " + spokenLabel(label) + ", silakan ke " + counter + ".";
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "id-ID";
    var voice = window.speechSynthesis.getVoices().filter(function (v) {
      return v.lang && v.lang.replace("_", "-").toLowerCase().indexOf("id") === 0;
    })[0];
    if (voice) { utterance.voice = voice; }
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function calls() {
    var found = {};
    document.querySelectorAll("#board-rows [data-call]").forEach(function (el) {
      found[el.getAttribute("data-call")] = el;
    });
    return found;
  }

  function check() {
    var now = calls();
    if (seen !== null) {
      var chimeOn = document.getElementById("board-chime").checked;
      var speechOn = document.getElementById("board-speech").checked;
      var delay = 0;
      Object.keys(now).forEach(function (key) {
        if (seen[key]) { return; }
        var el = now[key];
        if (chimeOn) { chime(); delay = 900; }
        if (speechOn) {
          window.setTimeout(function () {
            announce(el.getAttribute("data-label"), el.getAttribute("data-counter"));
          }, delay);
        }
      });
    }
    seen = now;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var chimeBox = document.getElementById("board-chime");
    var speechBox = document.getElementById("board-speech");
    chimeBox.checked = stored(CHIME);
    speechBox.checked = stored(SPEECH);
    chimeBox.addEventListener("change", function () {
      store(CHIME, chimeBox.checked);
      if (chimeBox.checked) { chime(); }  // the gesture that unlocks audio, and a sample
    });
    speechBox.addEventListener("change", function () {
      store(SPEECH, speechBox.checked);
      if (speechBox.checked) { announce("A-001", "Loket 1"); }
    });
    check();
    document.body.addEventListener("htmx:afterSwap", check);
  });
})();
