// Runs the official `ollama` npm client against `accel serve` and prints what it got as one JSON
// object (checked by ServeTest.OfficialOllamaNodeClient).
// usage: OLLAMA_MODULE=/path/to/node_modules/ollama node ollama_client.cjs HOST CHAT_MODEL EMBED_MODEL PROMPT_WORDS MAX_TOKENS
const { Ollama } = require(process.env.OLLAMA_MODULE);
const [host, chatModel, embedModel, promptWords, maxTokens] = process.argv.slice(2);

(async () => {
  const client = new Ollama({ host });
  const out = {};
  out.models = (await client.list()).models.map((m) => m.name);
  const options = { temperature: 0, num_predict: Number(maxTokens) };
  const messages = [{ role: 'user', content: promptWords }];
  const chat = await client.chat({ model: chatModel, messages, options, stream: false });
  out.chat = chat.message.content;
  out.chat_done_reason = chat.done_reason;
  out.chat_eval_count = chat.eval_count;
  out.chat_stream = '';
  for await (const part of await client.chat({ model: chatModel, messages, options, stream: true })) {
    out.chat_stream += part.message.content;
    if (part.done) out.chat_stream_done_reason = part.done_reason;
  }
  // raw: the prompt as given, no chat template
  const gen = await client.generate({ model: chatModel, prompt: promptWords, raw: true, options, stream: false });
  out.generate = gen.response;
  out.generate_stream = '';
  for await (const part of await client.generate({ model: chatModel, prompt: promptWords, raw: true, options, stream: true })) {
    out.generate_stream += part.response;
  }
  const emb = await client.embed({ model: embedModel, input: ['Hello worlds', 'the cat sat'] });
  out.embeddings = emb.embeddings;
  try {
    await client.chat({ model: 'no-such-model', messages, stream: false });
    out.unknown_model = 'no error';
  } catch (e) {
    out.unknown_model = { status: e.status_code, error: e.error };
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(String((e && e.stack) || e));
  process.exit(1);
});
