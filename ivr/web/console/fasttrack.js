/* Fast tracks on the screen-pop: the call's tags (HOTLINE_TAGS, ivr/plan/fasttrack.py) as badges.
   一企来: a registered enterprise's call (ahead in the queue, 15-working-day ticket);
   language:<id>: the caller chose a language seat at the 12345 menu. */
"use strict";

const TAG_LABELS = { enterprise: "一企来 涉企 Enterprise" };

function tagLabel(tag) {
  if (TAG_LABELS[tag]) return TAG_LABELS[tag];
  if (tag.startsWith("language:")) return "外语 Language: " + tag.slice("language:".length);
  return tag;
}

window.renderTags = function renderTags(call) {
  const box = document.getElementById("pop-tags");
  if (!box) return;
  const tags = Array.isArray(call.tags) ? call.tags.map(String) : [];
  if (!tags.length) { box.textContent = "—"; return; }
  box.replaceChildren(...tags.map((tag) => {
    const badge = document.createElement("span");
    badge.className = "badge tag tag-" + tag.split(":")[0];
    badge.textContent = tagLabel(tag);
    return badge;
  }));
};
