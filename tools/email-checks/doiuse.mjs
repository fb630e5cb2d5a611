// Prints caniemail's verdict on an HTML file for Gmail and Outlook, as JSON.
// Usage: node doiuse.mjs FILE.html
import { readFileSync } from 'node:fs';
import { doIUseEmail } from 'doiuse-email';

const html = readFileSync(process.argv[2], 'utf8');
const result = doIUseEmail(html, { emailClients: ['gmail.*', 'outlook.*'] });
console.log(JSON.stringify({ success: result.success, errors: result.errors ?? [] }));
