// The agent's quizzes: list them, open one (a fresh attempt key per opening, so a double
// submit counts once), answer, hand in, see the score and the right answers.
"use strict";
(() => {
  const $ = id => document.getElementById(id);
  let paper = null, attemptKey = "";

  const score = v => v === null || v === undefined ? "—" : v.toFixed(1);
  async function loadQuizzes() {
    const rows = await desk.api("GET", "/api/training/my/quizzes");
    $("my-quizzes").tBodies[0].innerHTML = rows.map(q =>
      "<tr data-quiz='" + q.quiz_id + "'><td>" + desk.esc(q.title) + "</td><td>" + desk.esc(q.due_on || "—") +
      "</td><td>" + q.pass_score + "</td><td>" + q.attempts + "</td><td class='best'>" + score(q.best_score) +
      "</td><td><button type='button' data-open='" + q.quiz_id + "'>" + (q.attempts ? "再考一次" : "开始考试") + "</button></td></tr>").join("")
      || "<tr><td colspan='6' class='muted'>暂无分配给您的考试</td></tr>";
  }
  async function loadAttempts() {
    const rows = await desk.api("GET", "/api/training/my/attempts");
    $("my-attempts").tBodies[0].innerHTML = rows.map(a =>
      "<tr data-attempt='" + a.attempt_id + "'><td>" + desk.esc(new Date(a.submitted_at).toLocaleString("zh-CN")) + "</td><td>" +
      desk.esc(a.quiz_title) + "</td><td>" + a.correct + "/" + a.total + "</td><td>" + score(a.score) + "</td><td>" +
      (a.passed ? "通过" : "未通过") + "</td></tr>").join("") || "<tr><td colspan='5' class='muted'>暂无记录</td></tr>";
  }
  function questionHtml(q, n) {
    const type = q.kind === "multiple" ? "checkbox" : "radio";
    return "<li data-question='" + q.question_id + "'><p><span class='muted'>[" + desk.esc(q.kind_label) + "]</span> " + desk.esc(q.prompt) + "</p>" +
      q.options.map((o, i) => "<label class='inline'><input type='" + type + "' name='q" + q.question_id + "' value='" + i + "'> " +
        desk.esc(o) + "</label>").join(" ") + "</li>";
  }
  async function openPaper(quizId) {
    paper = await desk.api("GET", "/api/training/my/quizzes/" + quizId);
    // getRandomValues works on plain-HTTP desks too (randomUUID needs a secure context).
    attemptKey = [...crypto.getRandomValues(new Uint8Array(16))].map(b => b.toString(16).padStart(2, "0")).join("");
    $("paper-title").textContent = paper.title;
    $("paper-hint").textContent = "共 " + paper.questions.length + " 题，及格分 " + paper.pass_score + "。多选题须选全且不多选才得分。";
    $("paper-questions").innerHTML = paper.questions.map(questionHtml).join("");
    $("paper-result").hidden = true;
    $("btn-submit-paper").disabled = false;
    $("paper-card").hidden = false;
  }
  function answerSheet() {
    return paper.questions.map(q => ({
      question_id: q.question_id,
      chosen: [...document.querySelectorAll("input[name='q" + q.question_id + "']:checked")].map(el => Number(el.value)),
    }));
  }
  function showResult(a) {
    const el = $("paper-result");
    el.className = "result" + (a.passed ? "" : " bad");
    el.dataset.score = String(a.score);
    el.textContent = "得分 " + score(a.score) + "（答对 " + a.correct + "/" + a.total + "），" + (a.passed ? "通过" : "未通过");
    el.hidden = false;
    a.answers.forEach(d => {
      const li = document.querySelector("li[data-question='" + d.question_id + "']");
      if (!li) return;
      li.dataset.right = d.right ? "1" : "0";
      li.insertAdjacentHTML("beforeend", "<p class='small " + (d.right ? "muted" : "error") + "'>" + (d.right ? "✓ 正确" : "✗ 正确答案：" +
        desk.esc(d.answer.map(i => d.options[i]).join("、"))) + (d.explanation ? " · " + desk.esc(d.explanation) : "") + "</p>");
    });
  }
  $("my-quizzes").addEventListener("click", ev => {
    const id = ev.target.dataset.open;
    if (id) openPaper(id).catch(e => desk.toast(e.message));
  });
  $("paper").addEventListener("submit", async ev => {
    ev.preventDefault();
    $("btn-submit-paper").disabled = true;
    try {
      const result = await desk.api("POST", "/api/training/my/quizzes/" + paper.quiz_id + "/attempts",
                                    { attempt_key: attemptKey, answers: answerSheet() });
      showResult(result);
      await Promise.all([loadQuizzes(), loadAttempts()]);
    } catch (e) {
      $("btn-submit-paper").disabled = false;
      desk.toast(e.message);
    }
  });
  // Team leaders: the questions up for review; 确认无误 keeps one as it is (a PUT of it
  // unchanged moves it to the article's newest version); to change one, use the API.
  let flagged = [];
  async function loadReview() {
    if (!$("review")) return;
    flagged = await desk.api("GET", "/api/training/questions?needs_review=true");
    $("review").tBodies[0].innerHTML = flagged.map((q, i) =>
      "<tr data-question='" + q.question_id + "'><td>[" + desk.esc(q.kind_label) + "] " + desk.esc(q.prompt) + "</td><td>" +
      desk.esc(q.article_title) + "</td><td class='reason'>" + desk.esc(q.review_reason) + "</td><td><button type='button' data-confirm='" + i +
      "'>确认无误</button></td></tr>").join("") || "<tr><td colspan='4' class='muted'>没有待复核的题目</td></tr>";
  }
  if ($("review")) $("review").addEventListener("click", async ev => {
    const q = flagged[ev.target.dataset.confirm];
    if (!q) return;
    const body = { article_id: q.article_id, kind: q.kind, prompt: q.prompt, options: q.options, answer: q.answer, explanation: q.explanation };
    try { await desk.api("PUT", "/api/training/questions/" + q.question_id, body); desk.toast("已确认"); await loadReview(); }
    catch (e) { desk.toast(e.message); }
  });
  Promise.all([loadQuizzes(), loadAttempts(), loadReview()]).then(() => { document.body.dataset.loaded = "1"; })
    .catch(e => desk.toast(e.message));
})();
