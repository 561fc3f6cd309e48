// The dashboard page, embedded at build time as a raw string (no npm front-end library,
// no CDN): vanilla JS polls the admin endpoints every few seconds and draws SVG charts.
#include "ui.hpp"

namespace warden::server::ui {

namespace {
constexpr std::string_view kPage = R"WARDENUI(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>warden dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0} header .muted{color:#aab}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px;padding:14px}
section{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px #0002;overflow-x:auto}
h2{font-size:14px;margin:0 0 8px;color:#445}
.stats{display:flex;gap:18px;flex-wrap:wrap}.stat b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
.err{color:#b00020}.ok{color:#1b7f3a}#login{padding:30px}svg{width:100%;height:160px}
.bar{fill:#4a7bd0}.axis{stroke:#ccd;stroke-width:1}
.meter{display:inline-block;width:90px;height:8px;background:#e4e7ee;border-radius:4px;vertical-align:middle;margin-left:6px}
.meter i{display:block;height:8px;border-radius:4px;background:#3a9e5c}.meter i.warn{background:#d0a43a}.meter i.over{background:#b00020}
</style></head><body>
<header><h1>warden</h1><span class="muted" id="status">not connected</span><span class="muted" id="generation"></span></header>
<div id="login" hidden><p>Admin token (sent as <code>Authorization: Bearer</code>; kept in this tab only):</p>
<form id="login-form"><input id="token" type="password" size="40" autocomplete="off"> <button>Connect</button></form></div>
<main id="dash" hidden>
<section><h2>Traffic</h2><div class="stats">
<div class="stat">requests<b id="total-requests">0</b></div>
<div class="stat">errors<b id="total-errors">0</b></div>
<div class="stat">cost USD<b id="total-cost">0</b></div>
<div class="stat">tokens in/out<b id="total-tokens">0</b></div>
<div class="stat">active streams<b id="active-streams">0</b></div></div>
<svg id="chart-rps" viewBox="0 0 400 160" preserveAspectRatio="none"></svg><div class="muted">requests per poll interval</div></section>
<section><h2>Latency (all routes)</h2><div class="stats">
<div class="stat">p50<b id="lat-p50">-</b></div><div class="stat">p90<b id="lat-p90">-</b></div>
<div class="stat">p99<b id="lat-p99">-</b></div><div class="stat">TTFT p50<b id="ttft-p50">-</b></div></div>
<svg id="chart-latency" viewBox="0 0 400 160" preserveAspectRatio="none"></svg><div class="muted">latency histogram (requests per bucket, seconds)</div></section>
<section><h2>Cost by team</h2><table id="cost-teams"><tr><td>no data</td></tr></table>
<svg id="chart-cost" viewBox="0 0 400 160" preserveAspectRatio="none"></svg><div class="muted" id="cost-legend"></div></section>
<section><h2>Requests by alias / status</h2><table id="requests-table"><tr><td>no data</td></tr></table></section>
<section><h2>Budgets and teams</h2><div id="teams">no data</div><div class="muted" id="budget-period"></div></section>
<section><h2>Circuit breakers</h2><div id="breakers">no data</div></section>
<section><h2>Engine</h2><table id="engine"><tr><td>no local engine metrics</td></tr></table></section>
<section><h2>Config</h2><div id="config">no data</div></section>
</main>
<script>
'use strict';
const POLL_MS = 3000;
let token = '';
const costHistory = [];   // [{t, byTeam:{team:usd}}]
const rpsHistory = [];
let lastTotal = null;

function esc(s){return String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));}
function fmtCost(v){return v.toFixed(6);}
function fmtSec(v){return v==null||!isFinite(v)?'-':(v<1?(v*1000).toFixed(1)+' ms':v.toFixed(2)+' s');}

async function get(path, text){
  const r = await fetch(path,{headers:{authorization:'Bearer '+token},cache:'no-store'});
  if (r.status===401) throw Object.assign(new Error('unauthorized'),{status:401});
  if (!r.ok) return null;
  return text ? r.text() : r.json();
}

// Prometheus text → [{name, labels:{}, value}]
function parseProm(text){
  const out=[];
  for (const line of text.split('\n')){
    if (!line || line[0]==='#') continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels={};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]]=l[2].replace(/\\(.)/g,(x,c)=>c==='n'?'\n':c);
    out.push({name:m[1],labels,value:Number(m[4])});
  }
  return out;
}
const sum=(ss,name,f=()=>true)=>ss.filter(s=>s.name===name&&f(s.labels)).reduce((a,s)=>a+s.value,0);
function groupSum(ss,name,key){const g={};for(const s of ss)if(s.name===name){const k=s.labels[key]??'';g[k]=(g[k]||0)+s.value;}return g;}

// Merge every series of a histogram and read quantiles by linear interpolation in the bucket.
function histogram(ss,name){
  const b={};
  for (const s of ss) if (s.name===name+'_bucket'){const le=s.labels.le==='+Inf'?Infinity:Number(s.labels.le);b[le]=(b[le]||0)+s.value;}
  const les=Object.keys(b).map(Number).sort((x,y)=>x-y);
  return les.map(le=>({le,count:b[le]}));
}
function quantile(h,q){
  if (!h.length) return null;
  const total=h[h.length-1].count; if (!total) return null;
  const rank=q*total; let prevLe=0, prevC=0;
  for (const {le,count} of h){
    if (count>=rank){ if (le===Infinity) return prevLe; const span=count-prevC; return prevLe+(span?(rank-prevC)/span:0)*(le-prevLe);}
    prevLe=le; prevC=count;
  }
  return prevLe;
}

function bars(svg,values,labels){
  const max=Math.max(1,...values), w=400/Math.max(1,values.length);
  let s='<line class="axis" x1="0" y1="150" x2="400" y2="150"/>';
  values.forEach((v,i)=>{const h=140*v/max;s+=`<rect class="bar" x="${i*w+1}" y="${150-h}" width="${Math.max(1,w-2)}" height="${h}"><title>${esc(labels?labels[i]:'')}: ${v}</title></rect>`;});
  document.getElementById(svg).innerHTML=s;
}
const COLORS=['#4a7bd0','#d0794a','#3a9e5c','#a34ad0','#d04a6a','#7a7a2a','#2a8a8a'];
function lines(svg,series,legendId){
  const names=Object.keys(series); let max=0,n=0;
  for (const k of names){max=Math.max(max,...series[k]);n=Math.max(n,series[k].length);}
  max=max||1; let s='<line class="axis" x1="0" y1="150" x2="400" y2="150"/>';
  names.forEach((k,i)=>{const pts=series[k].map((v,j)=>`${(n<2?0:j*400/(n-1)).toFixed(1)},${(150-140*v/max).toFixed(1)}`).join(' ');
    s+=`<polyline fill="none" stroke="${COLORS[i%COLORS.length]}" stroke-width="2" points="${pts}"/>`;});
  document.getElementById(svg).innerHTML=s;
  document.getElementById(legendId).innerHTML=names.map((k,i)=>`<span style="color:${COLORS[i%COLORS.length]}">&#9632; ${esc(k||'(none)')}</span>`).join(' ')+` &mdash; cumulative USD, max ${fmtCost(max)}`;
}

// Renders any JSON: arrays of objects as tables, objects as key/value tables.
function jsonView(v){
  if (v==null) return '<span class="muted">not available</span>';
  if (Array.isArray(v)){
    if (!v.length) return '<span class="muted">none</span>';
    if (typeof v[0]!=='object'||v[0]===null) return esc(v.join(', '));
    const cols=[...new Set(v.flatMap(o=>Object.keys(o)))];
    return '<table><tr>'+cols.map(c=>`<th>${esc(c)}</th>`).join('')+'</tr>'+v.map(o=>'<tr>'+cols.map(c=>`<td>${cell(o[c])}</td>`).join('')+'</tr>').join('')+'</table>';
  }
  if (typeof v==='object'){
    const arr=Object.values(v).find(Array.isArray);
    if (Object.keys(v).length<=3&&arr) return jsonView(arr);
    return '<table>'+Object.entries(v).map(([k,x])=>`<tr><th>${esc(k)}</th><td>${cell(x)}</td></tr>`).join('')+'</table>';
  }
  return esc(v);
}
function cell(x){ if (x==null) return ''; if (Array.isArray(x)) return esc(x.map(e=>typeof e==='object'?JSON.stringify(e):e).join(', ')); if (typeof x==='object') return Object.entries(x).map(([k,v])=>`${esc(k)}=<b>${esc(typeof v==='object'?JSON.stringify(v):v)}</b>`).join('<br>'); return esc(x);}

// GET /admin/teams → one row per team and budget dimension: spend this period, limit,
// used ratio (the same numbers as warden_budget_used_ratio), reservations in flight.
function fmtAmount(dim,v){return dim==='usd_per_month'?fmtCost(v):String(v);}
function fmtRatio(r){return (r*100).toFixed(2)+'%';}
function renderTeams(j){
  const el=document.getElementById('teams');
  if (!j||!Array.isArray(j.teams)){el.innerHTML='<span class="muted">not available</span>';return;}
  if (!j.teams.length){el.innerHTML='<span class="muted">no teams configured</span>';return;}
  let h='<table id="budgets-table"><tr><th>team</th><th>budget</th><th>used</th><th>limit</th><th>used %</th><th>in flight</th><th>keys</th></tr>';
  for (const t of j.teams){
    const dims=Object.entries(t.used||{});
    const keys=(t.keys?t.keys.config+(t.keys.virtual_active??0):'');
    if (!dims.length){h+=`<tr class="budget-row" data-team="${esc(t.team)}"><td>${esc(t.team)}</td><td class="muted">no budget</td><td></td><td></td><td></td><td></td><td class="team-keys">${keys}</td></tr>`;continue;}
    for (const [dim,d] of dims){
      const cls=d.used_ratio>=1?'over':d.used_ratio>=0.8?'warn':'';
      h+=`<tr class="budget-row" data-team="${esc(t.team)}" data-dimension="${esc(dim)}"><td>${esc(t.team)}</td><td>${esc(dim)} (${esc(t.budget?t.budget.mode:'')})</td>`+
        `<td class="budget-used">${fmtAmount(dim,d.used)}</td><td class="budget-limit">${fmtAmount(dim,d.limit)}</td>`+
        `<td><span class="budget-ratio">${fmtRatio(d.used_ratio)}</span><span class="meter"><i class="${cls}" style="width:${Math.min(100,d.used_ratio*100).toFixed(1)}%"></i></span></td>`+
        `<td class="budget-reserved">${fmtAmount(dim,d.reserved)}</td><td class="team-keys">${keys}</td></tr>`;
    }
  }
  el.innerHTML=h+'</table>';
  document.getElementById('budget-period').textContent='period: day '+j.day+', month '+j.month+' (UTC)';
}

async function poll(){
  try{
    const text=await get('/metrics',true);
    const ss=text?parseProm(text):[];
    const total=sum(ss,'warden_requests_total');
    const errors=sum(ss,'warden_requests_total',l=>Number(l.status)>=400);
    const cost=sum(ss,'warden_cost_usd_total');
    document.getElementById('total-requests').textContent=String(total);
    document.getElementById('total-errors').textContent=String(errors);
    document.getElementById('total-cost').textContent=fmtCost(cost);
    document.getElementById('total-tokens').textContent=sum(ss,'warden_tokens_total',l=>l.type==='prompt')+' / '+sum(ss,'warden_tokens_total',l=>l.type==='completion');
    document.getElementById('active-streams').textContent=String(sum(ss,'warden_active_streams'));
    rpsHistory.push(lastTotal==null?0:Math.max(0,total-lastTotal)); lastTotal=total; if (rpsHistory.length>60) rpsHistory.shift();
    bars('chart-rps',rpsHistory);

    const h=histogram(ss,'warden_request_duration_seconds');
    document.getElementById('lat-p50').textContent=fmtSec(quantile(h,0.5));
    document.getElementById('lat-p90').textContent=fmtSec(quantile(h,0.9));
    document.getElementById('lat-p99').textContent=fmtSec(quantile(h,0.99));
    document.getElementById('ttft-p50').textContent=fmtSec(quantile(histogram(ss,'warden_time_to_first_token_seconds'),0.5));
    const per=h.map((b,i)=>b.count-(i?h[i-1].count:0));
    bars('chart-latency',per,h.map(b=>'le '+b.le));

    const byTeam=groupSum(ss,'warden_cost_usd_total','team');
    const reqTeam=groupSum(ss,'warden_requests_total','team');
    costHistory.push(byTeam); if (costHistory.length>100) costHistory.shift();
    const teams=[...new Set([...Object.keys(reqTeam),...costHistory.flatMap(o=>Object.keys(o))])].sort();
    const series={}; for (const t of teams) series[t]=costHistory.map(o=>o[t]||0);
    lines('chart-cost',series,'cost-legend');
    document.getElementById('cost-teams').innerHTML='<tr><th>team</th><th>requests</th><th>cost USD</th></tr>'+
      teams.map(t=>`<tr><td>${esc(t||'(none)')}</td><td class="team-requests">${reqTeam[t]||0}</td><td class="team-cost">${fmtCost(byTeam[t]||0)}</td></tr>`).join('');

    const rows={}; for (const s of ss) if (s.name==='warden_requests_total'){const k=s.labels.alias+'|'+s.labels.status;rows[k]=(rows[k]||0)+s.value;}
    document.getElementById('requests-table').innerHTML='<tr><th>alias</th><th>status</th><th>requests</th></tr>'+
      Object.entries(rows).map(([k,v])=>{const [a,st]=k.split('|');return `<tr><td>${esc(a)}</td><td>${esc(st)}</td><td>${v}</td></tr>`;}).join('');

    const eng=ss.filter(s=>s.name.startsWith('warden_engine_'));
    if (eng.length) document.getElementById('engine').innerHTML='<tr><th>gauge</th><th>labels</th><th>value</th></tr>'+
      eng.map(s=>`<tr><td>${esc(s.name.slice(14))}</td><td>${esc(Object.values(s.labels).join(' '))}</td><td>${s.value}</td></tr>`).join('');

    const [teamsJ,breakersJ,configJ]=await Promise.all([get('/admin/teams').catch(()=>null),get('/admin/breakers').catch(()=>null),get('/admin/config').catch(()=>null)]);
    renderTeams(teamsJ);
    document.getElementById('breakers').innerHTML=jsonView(breakersJ);
    if (configJ){
      document.getElementById('generation').textContent='config generation '+configJ.generation;
      const lr=configJ.last_reload;
      document.getElementById('config').innerHTML='<table><tr><th>file</th><td>'+esc(configJ.file)+'</td></tr><tr><th>generation</th><td>'+esc(configJ.generation)+'</td></tr><tr><th>loaded at</th><td>'+esc(configJ.loaded_at)+'</td></tr><tr><th>last reload</th><td>'+
        (lr?`<span class="${lr.ok?'ok':'err'}">${lr.ok?'ok':'FAILED'}</span> ${esc(lr.trigger)} ${esc(lr.at)} ${esc((lr.errors||[]).join('; '))}`:'none')+'</td></tr></table>';
    }
    document.getElementById('status').textContent='updated '+new Date().toLocaleTimeString();
    document.body.dataset.polls=String(Number(document.body.dataset.polls||0)+1);
  }catch(e){
    if (e.status===401){showLogin('token rejected');return;}
    document.getElementById('status').textContent='error: '+e.message;
  }
  setTimeout(poll,POLL_MS);
}
function showLogin(msg){document.getElementById('dash').hidden=true;document.getElementById('login').hidden=false;document.getElementById('status').textContent=msg||'not connected';}
function start(t){token=t;sessionStorage.setItem('warden_admin_token',t);document.getElementById('login').hidden=true;document.getElementById('dash').hidden=false;poll();}
document.getElementById('login-form').addEventListener('submit',e=>{e.preventDefault();start(document.getElementById('token').value);});
const m=location.hash.match(/token=([^&]+)/);
if (m){history.replaceState(null,'',location.pathname);start(decodeURIComponent(m[1]));}
else if (sessionStorage.getItem('warden_admin_token')) start(sessionStorage.getItem('warden_admin_token'));
else showLogin();
</script></body></html>
)WARDENUI";
}  // namespace

std::string_view page_html() { return kPage; }

}  // namespace warden::server::ui
