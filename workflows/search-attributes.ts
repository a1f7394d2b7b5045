/** Typed search attributes of a clone, registered on the server by temporal-dev.sh. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CloneSource = defineSearchAttributeKey('CloneSource', SearchAttributeType.KEYWORD);
export const CloneTarget = defineSearchAttributeKey('CloneTarget', SearchAttributeType.KEYWORD);
export const ClonePlan = defineSearchAttributeKey('ClonePlan', SearchAttributeType.KEYWORD);
export const CloneStep = defineSearchAttributeKey('CloneStep', SearchAttributeType.KEYWORD);

/** name=Type pairs for `temporal server start-dev --search-attribute` (kept in sync by a test). */
export const SEARCH_ATTRIBUTE_FLAGS = ['CloneSource=Keyword', 'CloneTarget=Keyword', 'ClonePlan=Keyword', 'CloneStep=Keyword'];
