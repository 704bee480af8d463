#!/usr/bin/env bash
# Makes screenshots/*.png of the real console (and, last, of the web
# dashboard, through its browser test): the binary runs in tmux on a
# temporary data dir loaded with the samples; each view is captured with its
# colours (tmux capture-pane -e), turned into HTML (aha) and photographed by
# headless Chromium. Everything comes from Debian's packages; rerun any time.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" > /dev/null || { echo "installing $2"; apt-get install -y -qq "$2" > /dev/null; }; }
need tmux tmux
need aha aha
need chromium chromium
# CJK store and item names need a font that has them (Debian's WenQuanYi).
[[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]] || { echo "installing fonts-wqy-zenhei"; apt-get install -y -qq fonts-wqy-zenhei > /dev/null; }

cargo build --quiet
bin="$PWD/target/debug/stockwatch"
work=$(mktemp -d)
socket="stockwatch-shots-$$"
cleanup() { tmux -L "$socket" kill-server 2> /dev/null || true; sleep 1; rm -rf "$work" 2> /dev/null || true; }
trap cleanup EXIT
export STOCKWATCH_DATA_DIR="$work/data" STOCKWATCH_LOG_DIR="$work/logs" XDG_CONFIG_HOME="$work/config" STOCKWATCH_USER=ana
mkdir -p screenshots

cols=120 rows=34
tmux -L "$socket" new-session -d -s shots -x "$cols" -y "$rows" \
    "env STOCKWATCH_DATA_DIR='$STOCKWATCH_DATA_DIR' STOCKWATCH_LOG_DIR='$STOCKWATCH_LOG_DIR' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' STOCKWATCH_USER=ana TERM=xterm-256color '$bin'; sleep 60"
sleep 1.5
"$bin" upload samples/*.csv > /dev/null
sleep 2

keys() { for k in "$@"; do tmux -L "$socket" send-keys -t shots "$k"; sleep 0.3; done; sleep 1; }

shot() {
    local name=$1
    tmux -L "$socket" capture-pane -e -p -t shots > "$work/$name.ans"
    {
        echo '<!doctype html><html><head><meta charset="utf-8"><style>'
        echo 'body{margin:0;background:#1e1e1e;color:#d4d4d4}'
        echo 'pre{margin:12px;font:15px/1.25 "DejaVu Sans Mono","WenQuanYi Zen Hei Mono",monospace}'
        echo '</style></head><body><pre>'
        aha --no-header --black < "$work/$name.ans"
        echo '</pre></body></html>'
    } > "$work/$name.html"
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/chrome" --hide-scrollbars --window-size=$((cols * 19 / 2 + 30)),$((rows * 19 + 30)) \
        --screenshot="$PWD/screenshots/$name.png" "file://$work/$name.html" > /dev/null 2>&1
    echo "screenshots/$name.png"
}

shot console-out-of-stock          # stores most urgent first, the store's items, OUT in red
keys Enter
shot console-store
keys Escape o
shot console-all-stores            # every out-of-stock item across stores
keys Escape Tab Tab a
shot console-alerts                # alerts pane, one acknowledged (dimmed, who and when)
keys '?'
shot console-help                  # the help overlay, generated from the key map
keys q Enter
shot console-item-detail           # Enter on an alert: its store, the item selected, the detail
keys Escape
# The same console at 80x24, as over SSH in tmux, scrolled down the alerts
# when another file raises new ones above.
cols=80 rows=24
tmux -L "$socket" resize-window -t shots -x "$cols" -y "$rows"
keys Tab j j
printf 'store,item,count\nOslo,Echo Dot,0\nOslo,Echo Show,0\n' > "$work/oslo.csv"
"$bin" upload --no-check "$work/oslo.csv" > /dev/null
sleep 2
shot console-80x24-new-alerts      # "2 new ↑ g" in the title, "2 new" in the status bar
cols=120 rows=34
keys q
sleep 1

# The file pane, in a folder of its own: samples, an invalid file, a big one.
files="$work/files"
mkdir -p "$files"
cp samples/inventory-berlin.csv samples/inventory-pusan.csv samples/invalid/bad-counts.csv "$files/"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    f.write("store,item,count\n")
    for s in range(20000):
        for i in range(100):
            f.write(f"Store {s:05},Item {i:03},{(s * 7 + i) % 60}\n")
' "$files/zz-big-inventory.csv"
tmux -L "$socket" kill-server 2> /dev/null || true
sleep 1
rm -rf "$STOCKWATCH_DATA_DIR" 2> /dev/null || true
tmux -L "$socket" new-session -d -s shots -x "$cols" -y "$rows" -c "$files" \
    "env STOCKWATCH_DATA_DIR='$STOCKWATCH_DATA_DIR' STOCKWATCH_LOG_DIR='$work/logs2' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' STOCKWATCH_USER=ana TERM=xterm-256color '$bin'; sleep 60"
sleep 1.5
keys f
shot console-file-preview-invalid  # bad-counts.csv: would be rejected, errors by line
keys j
shot console-file-preview          # inventory-berlin.csv: would load, with its summary
keys k Space Space u
sleep 1
keys G u
sleep 0.3
shot console-upload-in-progress    # the big file uploading, the others done
sleep 12
shot console-big-file-checked      # the preview's background check done: would load 2,000,000 rows
keys q
sleep 1

# Trends and forecasts: two weeks of the sample stores, day by day.
tmux -L "$socket" kill-server 2> /dev/null || true
sleep 1
rm -rf "$STOCKWATCH_DATA_DIR" 2> /dev/null || true
"$bin" upload --spread 1d samples/history/*.csv > /dev/null
cols=140 rows=40
tmux -L "$socket" new-session -d -s shots -x "$cols" -y "$rows" \
    "env STOCKWATCH_DATA_DIR='$STOCKWATCH_DATA_DIR' STOCKWATCH_LOG_DIR='$work/logs3' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' STOCKWATCH_USER=ana TERM=xterm-256color '$bin'; sleep 60"
sleep 1.5
keys : s t o r e Space B e r l i n Enter
shot console-trends                # a store's items: 14-day trend blocks, DAYS LEFT
keys r
shot console-runs-out-soon         # every item with an open SOON alert, soonest first
keys Escape : s t o r e Space B e r l i n Enter / D o t Enter Enter
shot console-forecast-chart        # Enter on an item: its forecast and the chart
keys Escape q
sleep 1

# A chain: 40 stores × 300 items (accented, CJK and long names), 2,000 open
# alerts, at 80×24 as over SSH, then São Paulo found by `:store sao`, then
# the same at 200×50.
tmux -L "$socket" kill-server 2> /dev/null || true
sleep 1
rm -rf "$STOCKWATCH_DATA_DIR" 2> /dev/null || true
chain="$work/chain"
mkdir -p "$chain"
python3 - "$chain" <<'PY'
import sys
names = ["São Paulo Paulista", "東京 渋谷", "Zürich HB", "Kraków Główny", "Shanghai Pudong",
         "México Reforma", "Ålesund", "Berlin Mitte",
         "Filiale Mönchengladbach-Rheydt Hauptbahnhof Einkaufszentrum", "Sapporo"]
names += [f"Tienda {i:02} Ñandú" for i in range(len(names), 40)]
for n, store in enumerate(names):
    with open(f"{sys.argv[1]}/store-{n:02}.csv", "w") as f:
        f.write("store,item,count\n")
        for i in range(300):
            item = [f"Artículo {i:03}", f"商品 {i:03}",
                    f"Echo Dot (5th generation) smart speaker with clock, glacier {i:03}"][i % 3]
            count = 0 if i % 12 == 0 else 2 if i % 12 == 1 else 10 + (i % 12) * 137
            f.write(f'"{store}","{item}",{count}\n')
PY
"$bin" upload "$chain"/*.csv > /dev/null
cols=80 rows=24
tmux -L "$socket" new-session -d -s shots -x "$cols" -y "$rows" \
    "env STOCKWATCH_DATA_DIR='$STOCKWATCH_DATA_DIR' STOCKWATCH_LOG_DIR='$work/logs4' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' STOCKWATCH_USER=ana TERM=xterm-256color '$bin'; sleep 60"
sleep 2
shot console-chain-80x24           # 40 stores, 2,000 alerts: 7 alert rows, "↓ N more" on every list
keys : s t o r e Space s a o Enter
shot console-chain-store-sao       # :store sao opens São Paulo Paulista at its first row, marked in the stores pane
cols=200 rows=50
tmux -L "$socket" resize-window -t shots -x "$cols" -y "$rows"
sleep 1
shot console-chain-200x50          # wide: the numbers stay next to the names
keys q

# The web dashboard: its browser test takes them (headless Chromium through
# chromedriver), desktop and phone widths.
need chromedriver chromium-driver
STOCKWATCH_SCREENSHOTS=1 cargo test --quiet --features tier-e2e --test e2e web_browser
