// Pulse: live regions refresh themselves, destructive actions ask first. No build step, no framework.
(() => {
    const refreshEvery = 3000;

    // Every element with data-live and an id is replaced by its fresh copy from the same URL. Checked
    // boxes stay checked, and nothing refreshes while the operator is typing in a form.
    async function refresh() {
        const live = document.querySelectorAll("[data-live][id]");
        if (live.length === 0 || document.hidden) return;
        if (document.activeElement && ["TEXTAREA", "INPUT"].includes(document.activeElement.tagName) && document.activeElement.type !== "checkbox") return;
        let response;
        try {
            response = await fetch(location.href, { headers: { "X-Pulse-Refresh": "1" }, cache: "no-store", redirect: "manual" });
        } catch {
            return;
        }
        // The session ended (the answer is a redirect to sign in): load the page, which signs in again.
        if (response.type === "opaqueredirect") {
            location.reload();
            return;
        }
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const checked = new Set([...document.querySelectorAll("input[type=checkbox][name=ids]:checked")].map(box => box.value));
        const open = new Set([...document.querySelectorAll("[data-live] details[open] > summary")].map(s => s.textContent));
        for (const region of live) {
            const replacement = fresh.getElementById(region.id);
            if (replacement && replacement.innerHTML !== region.innerHTML) region.innerHTML = replacement.innerHTML;
        }
        for (const box of document.querySelectorAll("input[type=checkbox][name=ids]")) box.checked = checked.has(box.value);
        for (const summary of document.querySelectorAll("[data-live] details > summary")) if (open.has(summary.textContent)) summary.parentElement.open = true;
        document.dispatchEvent(new CustomEvent("pulse:refreshed"));
    }
    setInterval(refresh, refreshEvery);

    // <form data-confirm="..."> or <button data-confirm="..."> asks before it posts.
    document.addEventListener("submit", event => {
        const button = event.submitter;
        const question = (button && button.dataset.confirm) || event.target.dataset.confirm;
        if (question && !confirm(question)) event.preventDefault();
    });

    document.addEventListener("change", event => {
        if (event.target.matches("[data-select-all]")) {
            for (const box of document.querySelectorAll("input[type=checkbox][name=ids]")) box.checked = event.target.checked;
        }
    });
})();
