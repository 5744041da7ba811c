// A minimal client of PostgreSQL's wire protocol, for messages a driver
// does not send on its own (Close of a named statement then Parse of the
// same name, in one batch).  Trust authentication only.
//   node raw_protocol.js socket_path database user script.json
// script.json: a list of batches, each a list of messages sent together and
// followed by the next batch once the server is ready for a query:
//   ["Q", sql]  ["P", name, sql]  ["B", portal, stmt, [params]]
//   ["E", portal]  ["D", "S"|"P", name]  ["C", "S"|"P", name]  ["S"]  ["H"]
// Prints one line per error (ERROR message), row (ROW json) and command tag.
const net=require('net');
const [sockpath, database, user, scriptfile]=process.argv.slice(2);
const script=JSON.parse(require('fs').readFileSync(scriptfile));
const sock=net.connect(sockpath);
function msg(t,body){const b=Buffer.concat(body.map(x=>typeof x==='string'?Buffer.from(x+'\0'):x));const h=Buffer.alloc(t?5:4);let o=0;if(t){h.write(t);o=1}h.writeInt32BE(b.length+4,o);return Buffer.concat([h,b]);}
function i16(n){const b=Buffer.alloc(2);b.writeInt16BE(n);return b}
function i32(n){const b=Buffer.alloc(4);b.writeInt32BE(n);return b}
const M={
 Q:(s)=>msg('Q',[s]),
 P:(name,sql)=>msg('P',[name,sql,i16(0)]),
 B:(portal,stmt,params=[])=>msg('B',[portal,stmt,i16(0),i16(params.length),...params.flatMap(p=>p===null?[i32(-1)]:[i32(Buffer.byteLength(p)),Buffer.from(p)]),i16(0)]),
 E:(portal,n=0)=>msg('E',[portal,i32(n)]),
 D:(kind,name)=>msg('D',[Buffer.from(kind),name]),
 C:(kind,name)=>msg('C',[Buffer.from(kind),name]),
 S:()=>msg('S',[]),
 H:()=>msg('H',[]),
};
let buf=Buffer.alloc(0), step=0, started=false;
function send(){ if(step>=script.length){sock.write(msg('X',[]));sock.end();return;}
  const batch=script[step++];
  sock.write(Buffer.concat(batch.map(m=>M[m[0]](...m.slice(1))))); }
sock.on('connect',()=>{sock.write(msg(null,[i32(196608),'user',user,'database',database,'']));});
sock.on('data',d=>{buf=Buffer.concat([buf,d]);
 while(buf.length>=5){const t=String.fromCharCode(buf[0]);const len=buf.readInt32BE(1);if(buf.length<len+1)break;const body=buf.slice(5,len+1);buf=buf.slice(len+1);
  if(t==='E'||t==='N'){const f={};let o=0;while(body[o]){const c=String.fromCharCode(body[o]);const e=body.indexOf(0,o+1);f[c]=body.slice(o+1,e).toString();o=e+1;}console.log(t==='E'?'ERROR':'NOTICE',f.M,f.D||'');}
  else if(t==='D'){const n=body.readInt16BE(0);let o=2;const row=[];for(let i=0;i<n;i++){const l=body.readInt32BE(o);o+=4;row.push(l<0?null:body.slice(o,o+l).toString());if(l>0)o+=l;}console.log('ROW',JSON.stringify(row));}
  else if(t==='C'){console.log('CMD',body.slice(0,-1).toString());}
  else if(t==='Z'){ send(); }
 }});
sock.on('close',()=>process.exit(0));
