extension ConsoleApp {
  /// The console's one stylesheet (served from `console.css`: the CSP allows no inline style).
  static let css = """
    :root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b57d0; --accent-ink: #fff;
      --bg: #f6f8fa; --danger: #b3261e; --ok: #116329; font-family: "Liberation Sans", Arial, sans-serif; }
    * { box-sizing: border-box; }
    body { margin: 0; color: var(--ink); background: var(--bg); font-size: 15px; line-height: 1.45; }
    header.top { display: flex; justify-content: space-between; align-items: center; padding: .6rem 1.5rem;
      background: #1f2d3d; color: #fff; }
    header.top a.brand { color: #fff; font-weight: bold; text-decoration: none; font-size: 1.1rem; }
    main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
    h1 { font-size: 1.6rem; margin: .6rem 0 1rem; }
    h2 { font-size: 1.2rem; }
    a { color: var(--accent); }
    a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible,
    textarea:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
    .title-row { display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
    .narrow { max-width: 26rem; }
    label { display: block; font-weight: bold; margin: .7rem 0 .25rem; }
    label.choice { font-weight: normal; margin: .35rem 0; }
    input, select, textarea { font: inherit; padding: .45rem .55rem; border: 1px solid #8c959f; border-radius: 6px;
      width: 100%; max-width: 32rem; background: #fff; color: var(--ink); }
    input[type=radio], input[type=checkbox] { width: auto; margin-right: .4rem; }
    textarea { font-family: "Liberation Mono", monospace; font-size: .85rem; max-width: 100%; }
    fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .5rem 1rem .8rem; max-width: 34rem; }
    legend { font-weight: bold; padding: 0 .3rem; }
    button, a.button { font: inherit; display: inline-block; padding: .45rem .9rem; border-radius: 6px;
      border: 1px solid #8c959f; background: #fff; color: var(--ink); cursor: pointer; text-decoration: none; }
    button.primary, a.button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
    button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
    form button.primary { display: block; margin-top: 1rem; }
    button.link { border: 0; background: none; color: var(--accent); padding: 0; text-decoration: underline; }
    .help { color: var(--muted); font-size: .88rem; margin: .2rem 0 .4rem; }
    .error { background: #ffebe9; border: 1px solid #ff8182; color: #82071e; padding: .6rem .8rem; border-radius: 6px; }
    .notice { background: #dafbe1; border: 1px solid #4ac26b; color: #0a3622; padding: .6rem .8rem; border-radius: 6px; }
    .filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; background: #fff; padding: .6rem 1rem .9rem;
      border: 1px solid var(--line); border-radius: 8px; }
    .filters label { margin-top: 0; }
    .filters input, .filters select { width: 13rem; }
    table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin: 1rem 0; }
    caption { text-align: left; font-weight: bold; padding: .5rem 0; }
    th, td { text-align: left; padding: .5rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: #eef1f4; }
    .status.active { color: var(--ok); font-weight: bold; }
    .status.inactive { color: var(--muted); }
    .tag { font-size: .75rem; background: #ddf4ff; color: #0a3069; border-radius: 10px; padding: .05rem .45rem; }
    details.menu, details.profile { position: relative; }
    details.menu summary, details.profile summary { cursor: pointer; list-style: none; padding: .2rem .6rem;
      border: 1px solid var(--line); border-radius: 6px; background: #fff; display: inline-block; }
    details.profile summary { color: var(--ink); }
    details.menu summary::-webkit-details-marker, details.profile summary::-webkit-details-marker { display: none; }
    details.menu ul, details.profile ul { position: absolute; right: 0; z-index: 2; list-style: none; margin: .3rem 0 0;
      padding: .4rem 0; min-width: 13rem; background: #fff; border: 1px solid var(--line); border-radius: 8px;
      box-shadow: 0 4px 14px rgba(0,0,0,.15); }
    details.menu li, details.profile li { padding: .35rem .9rem; }
    details.profile a { color: var(--accent); }
    dl.details { display: grid; grid-template-columns: 12rem 1fr; gap: .4rem 1rem; margin: 0; }
    dl.details dt { font-weight: bold; color: var(--muted); }
    dl.details dd { margin: 0; }
    .actions { display: flex; flex-wrap: wrap; gap: .6rem; margin-top: 1rem; }
    form.inline { display: inline; }
    .readonly .label { font-weight: bold; display: inline-block; min-width: 6rem; }
    .step { color: var(--muted); }
    .secret input { font-family: "Liberation Mono", monospace; font-size: 1.1rem; max-width: 40rem; }
    .paging { display: flex; gap: 1rem; }
    .count { color: var(--muted); }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    """
}
