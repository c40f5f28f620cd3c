import { agreementSuite } from '../support/agreement.js';

agreementSuite('webasm');
