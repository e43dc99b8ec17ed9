Feature: Alert calls on a double press
  A double press dials every contact at once (all within 5 s) with a spoken message,
  sends each an SMS inviting them to the conference, and joins it from the wearer's
  phone. A call unanswered after 30 s of ringing, or busy, is dialled again 60 s after
  it ended, at most twice.

  Background:
    Given a button paired with a phone
    And the phone is at 48.8566, 2.3522

  Scenario: Five contacts, five calls and five invitations, exactly once each
    Given the phone has 5 emergency contacts
    When the wearer double-presses the button
    Then within 5 s the phone calls every contact
    And within 5 s 5 contacts receive an SMS containing "Join the conference: https://"
    When 10 minutes pass
    Then exactly 5 SMS are sent
    And contact "Contact 1" has been called 1 times
    And contact "Contact 5" has been called 1 times
    And every SMS contains the location 48.8566, 2.3522

  Scenario Outline: A contact who does not pick up is called three times in all
    Given the phone has 2 emergency contacts
    And contact "Contact 2" <behaviour>
    When the wearer double-presses the button
    Then within 5 s the phone calls "Contact 2"
    And within 5 s contact "Contact 2" has been called 1 times
    When 10 minutes pass
    Then contact "Contact 2" has been called 3 times
    And contact "Contact 1" has been called 1 times

    Examples:
      | behaviour        |
      | does not answer  |
      | is busy          |

  Scenario: The redial comes 60 s after the unanswered call ended
    Given the phone has 1 emergency contacts
    And contact "Contact 1" does not answer
    When the wearer double-presses the button
    And 85 seconds pass
    Then contact "Contact 1" has been called 1 times
    And within 10 s contact "Contact 1" has been called 2 times

  Scenario: A contact who answers late is not called again
    Given the phone has 1 emergency contacts
    And contact "Contact 1" answers after 20 s
    When the wearer double-presses the button
    And 10 minutes pass
    Then contact "Contact 1" has been called 1 times

  Scenario: No network: the calls fail and the wearer feels it
    Given the phone has 1 emergency contacts
    And the phone has no cellular network
    When the wearer double-presses the button
    Then within 10 s the button vibrates the "failed" pattern
    And no SMS is sent
    When the phone regains cellular network
    Then within 10 s contact "Contact 1" receives an SMS containing "Join the conference"
