// `numbers`: the Aircall numbers, open or closed.

import { formatNumbers } from '../format.js';
import { listNumbers } from '../queries.js';
import { stateListCommand } from './state-list.js';

export const numbersCommand = stateListCommand({
  name: 'numbers',
  table: 'numbers',
  summary: 'Aircall numbers, open or closed',
  description:
    'Every number the stack has heard of, by name: id, name, digits, country, open, availability_status.',
  noun: 'numbers',
  list: listNumbers,
  format: formatNumbers,
});
