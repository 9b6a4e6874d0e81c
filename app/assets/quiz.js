/* Checks of understanding (components/quiz.py): answers and scores in the
 * browser, under the key "quiz" of the tour's store (local storage):
 *   {"quiz": {lesson: {question: {"choice": option index, "right": bool}}}}
 * The first answer to a question counts; "Answer again" forgets it. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const KEY = "quiz";
  const noUpdate = () => window.dash_clientside.no_update;

  function triggered() {
    const ctx = window.dash_clientside.callback_context;
    const first = (ctx.triggered || [])[0];
    if (!first || !first.prop_id || !first.value) return null;   // no click yet
    const id = first.prop_id.slice(0, first.prop_id.lastIndexOf("."));
    try { return JSON.parse(id); } catch (e) { return null; }
  }

  function answersOf(store) {
    const quiz = store && store[KEY];
    return quiz !== null && typeof quiz === "object" && !Array.isArray(quiz) ? quiz : {};
  }

  /* The answer key of each lesson on the page, from the quiz-key stores: {lesson: {q: {right, options}}}. */
  function keysByLesson(keys, list) {
    const out = {};
    (list || []).forEach((item, i) => { out[item.id.lesson] = (keys && keys[i]) || {}; });
    return out;
  }

  /* A stored answer to the question of `key`, or null (none, or not one of its options). */
  function record(key, rec) {
    const options = (key && key.options) || [];
    return rec && typeof rec === "object" && Number.isInteger(rec.choice) && rec.choice >= 0 &&
      rec.choice < options.length ? rec : null;
  }

  function outputsOf(ctx, i) {
    const list = ctx.outputs_list || [];
    return Array.isArray(list[i]) ? list[i] : [];
  }

  ns.quiz = {
    /* A pick records the first answer to its question; "Answer again" forgets it. */
    record: function (picks, agains, keys, store) {
      const id = triggered();
      if (!id || !id.lesson || !id.q) return noUpdate();
      const ctx = window.dash_clientside.callback_context;
      const key = (keysByLesson(keys, ctx.states_list && ctx.states_list[0])[id.lesson] || {})[id.q];
      if (!key) return noUpdate();
      const answers = Object.assign({}, answersOf(store));
      const lesson = Object.assign({}, answers[id.lesson] || {});
      if (id.type === "quiz-pick") {
        if (record(key, lesson[id.q])) return noUpdate();          // answered: the first answer counts
        lesson[id.q] = { choice: Number(id.k), right: Number(id.k) === key.right };
      } else if (id.type === "quiz-again") {
        delete lesson[id.q];
      } else {
        return noUpdate();
      }
      answers[id.lesson] = lesson;
      return Object.assign({}, store || {}, { [KEY]: answers });
    },

    /* Every question as the store says: answered or not, right or not, and the lesson's score. */
    show: function (store, keys) {
      const ctx = window.dash_clientside.callback_context;
      const byLesson = keysByLesson(keys, ctx.inputs_list && ctx.inputs_list[1]);
      const answers = answersOf(store);
      // Right or wrong by this page's answer key (the stored flag is for the home page).
      const recOf = (id) => {
        const key = (byLesson[id.lesson] || {})[id.q];
        const rec = record(key, (answers[id.lesson] || {})[id.q]);
        return { key: key, rec: rec && { choice: rec.choice, right: rec.choice === key.right } };
      };
      const questions = outputsOf(ctx, 0).map((o) => {
        const { rec } = recOf(o.id);
        return "quiz-q" + (rec ? (rec.right ? " is-answered is-right" : " is-answered is-wrong") : "");
      });
      const results = outputsOf(ctx, 1).map((o) => {
        const { key, rec } = recOf(o.id);
        if (!rec) return "";
        if (rec.right) return "✓ Right.";
        const right = (key.options || [])[key.right] || "";
        return `✗ Not quite. The right answer is “${right}”.`;
      });
      const options = outputsOf(ctx, 2).map((o) => {
        const { key, rec } = recOf(o.id);
        if (!rec) return "quiz-option";
        const k = Number(o.id.k);
        return "quiz-option" + (k === key.right ? " is-right" : "") + (k === rec.choice ? " is-chosen" : "");
      });
      const settled = outputsOf(ctx, 3).map((o) => (recOf(o.id).rec ? "true" : "false"));
      const scores = outputsOf(ctx, 4).map((o) => {
        const key = byLesson[o.id.lesson] || {};
        const total = Object.keys(key).length;
        const given = Object.keys(key).map((q) => recOf({ lesson: o.id.lesson, q: q }).rec).filter(Boolean);
        if (!given.length) return `${total} questions: pick the answer you think is right.`;
        const right = given.filter((r) => r.right).length;
        const left = total - given.length;
        return `${right} of ${total} right` + (left ? ` · ${left} still to answer` : "") + ".";
      });
      return [questions, results, options, settled, scores];
    },

    /* The home page: each lesson card's score, once a question of it is answered.
     * questions: {lesson: [question id, ...]}. */
    badges: function (store, questions) {
      const ctx = window.dash_clientside.callback_context;
      const answers = answersOf(store);
      // With a single (ALL) output, outputs_list is that output's list itself.
      const list = ctx.outputs_list || [];
      return (Array.isArray(list[0]) ? list[0] : list).map((o) => {
        const ids = ((questions || {})[o.id.lesson]) || [];
        const given = ids.map((q) => (answers[o.id.lesson] || {})[q])
          .filter((r) => r && typeof r === "object" && Number.isInteger(r.choice));
        if (!given.length) return "";
        return `Quiz: ${given.filter((r) => r.right === true).length} of ${ids.length} right`;
      });
    },
  };


  /* Keys pressed on a question (Space or Enter on an answer, arrows) answer
   * it; they do not move the lesson to another step. */
  const STEP_KEYS = new Set([" ", "Enter", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp",
                             "PageDown", "Home", "End", "n", "N", "p", "P"]);
  document.addEventListener("keydown", (event) => {
    const inQuiz = event.target && event.target.closest && event.target.closest(".quiz");
    if (inQuiz && STEP_KEYS.has(event.key)) event.stopPropagation();
  }, true);
})();
