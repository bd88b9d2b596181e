const fs=require('fs');const f=fs.readdirSync('.').filter(x=>x.endsWith('.cpuprofile'))[0];
const p=JSON.parse(fs.readFileSync(f));const byId=new Map(p.nodes.map(n=>[n.id,n]));const parent=new Map();
for(const n of p.nodes)for(const c of n.children||[])parent.set(c,n.id);
const t=new Map();p.samples.forEach((s,i)=>t.set(s,(t.get(s)||0)+(p.timeDeltas[i]||0)));
const incl=new Map();
for(const [id,v] of t){const seen=new Set();let cur=id;while(cur!==undefined){const cf=byId.get(cur).callFrame;const key=`${cf.functionName||'(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;if(!seen.has(key)){seen.add(key);incl.set(key,(incl.get(key)||0)+v);}cur=parent.get(cur);}}
[...incl].filter(([k])=>/controller|validation|codecs|database\.ts|driver\.ts|zod|schemas/.test(k)).sort((a,b)=>b[1]-a[1]).slice(0,40).forEach(([k,v])=>console.log((v/1000).toFixed(0).padStart(6),'ms',k));
