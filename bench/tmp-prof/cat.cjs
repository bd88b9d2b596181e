const fs=require('fs');const d=process.argv[2];const f=fs.readdirSync(d).filter(x=>x.endsWith('.cpuprofile'))[0];const p=JSON.parse(fs.readFileSync(d+'/'+f));
const byId=new Map(p.nodes.map(n=>[n.id,n]));const t=new Map();p.samples.forEach((s,i)=>t.set(s,(t.get(s)||0)+(p.timeDeltas[i]||0)));
const agg=new Map();for(const [id,v] of t){const cf=byId.get(id).callFrame;const u=cf.url;let k;
if(!u)k=cf.functionName;else if(u.includes('node_modules/'))k='nm:'+u.split('node_modules/').pop().split('/')[0];else if(u.includes('/dist/'))k='retort:'+u.split('/dist/')[1];else if(u.startsWith('node:'))k='node:'+u.slice(5).split('/')[0];else k=u.split('/').pop();
agg.set(k,(agg.get(k)||0)+v);}
const N=Number(process.argv[3]);[...agg].filter(([k])=>k!=='(idle)').sort((a,b)=>b[1]-a[1]).slice(0,22).forEach(([k,v])=>console.log((v/N).toFixed(2).padStart(7),'µs/call',k));
