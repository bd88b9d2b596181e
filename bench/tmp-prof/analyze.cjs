const fs=require('fs');const f=fs.readdirSync('.').filter(x=>x.endsWith('.cpuprofile'))[0];
const p=JSON.parse(fs.readFileSync(f));const self=new Map();const dt=p.timeDeltas;const byId=new Map(p.nodes.map(n=>[n.id,n]));
const counts=new Map();p.samples.forEach((s,i)=>counts.set(s,(counts.get(s)||0)+(dt[i]||0)));
const agg=new Map();for(const [id,t] of counts){const n=byId.get(id);const cf=n.callFrame;const key=`${cf.functionName||'(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;agg.set(key,(agg.get(key)||0)+t);}
const tot=[...agg.values()].reduce((a,b)=>a+b,0);
[...agg].sort((a,b)=>b[1]-a[1]).slice(0,45).forEach(([k,v])=>console.log((v/1000).toFixed(0).padStart(6),'ms',(100*v/tot).toFixed(1).padStart(5)+'%',k));
